// Big-endian byte writer and bounds-checked reader for the host<->agent wire
// formats. The reader never reads past its span: every accessor reports
// failure instead, so a hostile peer's bytes cannot make us crash or over-read.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vk::proto {

class ByteWriter {
 public:
  void U8(uint8_t value) { bytes_.push_back(value); }
  void U16(uint16_t value);
  void U32(uint32_t value);
  void U64(uint64_t value);
  // u32 length followed by the bytes.
  void String(std::string_view text);
  void Bytes(std::span<const uint8_t> data) {
    bytes_.insert(bytes_.end(), data.begin(), data.end());
  }

  std::vector<uint8_t>& bytes() { return bytes_; }
  std::vector<uint8_t> Take() { return std::move(bytes_); }

 private:
  std::vector<uint8_t> bytes_;
};

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> data) : data_(data) {}

  std::optional<uint8_t> U8();
  std::optional<uint16_t> U16();
  std::optional<uint32_t> U32();
  std::optional<uint64_t> U64();
  // A u32-length-prefixed string of at most max_length bytes.
  std::optional<std::string> String(size_t max_length);

  size_t remaining() const { return data_.size() - offset_; }

 private:
  std::optional<std::span<const uint8_t>> Take(size_t count);

  std::span<const uint8_t> data_;
  size_t offset_ = 0;
};

}  // namespace vk::proto
