// Bounds-checked big-endian access to untrusted frame bytes. A reader never
// reads past its span: an out-of-range read sets a sticky failure flag and
// yields zeros, so parsers check ok() once after copying a header out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace vk::net {

using Bytes = std::span<const uint8_t>;

class ByteReader {
 public:
  explicit ByteReader(Bytes data, size_t pos = 0) : data_(data), pos_(pos) {
    if (pos_ > data_.size()) ok_ = false;
  }

  uint8_t U8() { return Take(1) ? data_[pos_ - 1] : 0; }
  uint16_t U16() {
    if (!Take(2)) return 0;
    return static_cast<uint16_t>(data_[pos_ - 2] << 8 | data_[pos_ - 1]);
  }
  uint32_t U32() {
    uint32_t high = U16();
    return high << 16 | U16();
  }
  // Returns an empty span (and fails) when fewer than n bytes remain.
  Bytes Take(size_t n, Bytes* out) {
    *out = Take(n) ? data_.subspan(pos_ - n, n) : Bytes{};
    return *out;
  }
  void Skip(size_t n) { (void)Take(n); }

  bool ok() const { return ok_; }
  size_t pos() const { return pos_; }
  size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }

 private:
  bool Take(size_t n) {
    if (!ok_ || n > data_.size() - pos_) {
      ok_ = false;
      return false;
    }
    pos_ += n;
    return true;
  }

  Bytes data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Appends big-endian fields to a growing buffer (frames we build).
class ByteWriter {
 public:
  explicit ByteWriter(std::vector<uint8_t>& out) : out_(out) {}
  void U8(uint8_t v) { out_.push_back(v); }
  void U16(uint16_t v) {
    out_.push_back(static_cast<uint8_t>(v >> 8));
    out_.push_back(static_cast<uint8_t>(v));
  }
  void U32(uint32_t v) {
    U16(static_cast<uint16_t>(v >> 16));
    U16(static_cast<uint16_t>(v));
  }
  void Append(Bytes bytes) { out_.insert(out_.end(), bytes.begin(), bytes.end()); }
  void Zeros(size_t n) { out_.insert(out_.end(), n, 0); }
  size_t size() const { return out_.size(); }

 private:
  std::vector<uint8_t>& out_;
};

inline uint16_t Load16(Bytes b, size_t off) {
  return static_cast<uint16_t>(b[off] << 8 | b[off + 1]);
}
inline uint32_t Load32(Bytes b, size_t off) {
  return uint32_t{Load16(b, off)} << 16 | Load16(b, off + 2);
}
inline void Store16(std::span<uint8_t> b, size_t off, uint16_t v) {
  b[off] = static_cast<uint8_t>(v >> 8);
  b[off + 1] = static_cast<uint8_t>(v);
}
inline void Store32(std::span<uint8_t> b, size_t off, uint32_t v) {
  Store16(b, off, static_cast<uint16_t>(v >> 16));
  Store16(b, off + 2, static_cast<uint16_t>(v));
}

}  // namespace vk::net
