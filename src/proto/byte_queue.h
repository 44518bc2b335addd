// ByteQueue: a FIFO of bytes waiting for a slow destination (a host stdout, a
// child's stdin). Flow control bounds how much is ever queued.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace vk::proto {

class ByteQueue {
 public:
  size_t size() const { return data_.size() - head_; }
  bool empty() const { return size() == 0; }
  std::span<const uint8_t> Front() const { return {data_.data() + head_, size()}; }
  void Append(std::span<const uint8_t> bytes) {
    data_.insert(data_.end(), bytes.begin(), bytes.end());
  }
  void Pop(size_t count) {
    head_ += count;
    if (head_ == data_.size()) {
      data_.clear();
      head_ = 0;
    } else if (head_ * 2 >= data_.size()) {
      data_.erase(data_.begin(), data_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  void Clear() {
    data_.clear();
    head_ = 0;
  }

 private:
  std::vector<uint8_t> data_;
  size_t head_ = 0;
};

}  // namespace vk::proto
