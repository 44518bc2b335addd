// StateWriter / StateReader: the byte encoding of saved machine state
// (snapshots, docs/snapshots.md). Little-endian fixed-size fields, strings
// and byte blobs prefixed by a u32 length. A reader never trusts what it
// reads: every read is bounds-checked, a length past the end or above
// kMaxBlob is an error, and Finish() refuses trailing bytes, so a truncated
// or corrupted record fails as a whole instead of half-loading.
//
// Each saved object writes a tag and a version of its own first
// (BeginRecord/ExpectRecord) so a reader can say *what* did not match.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "base/result.h"

namespace vk {

class StateWriter {
 public:
  // A record header: a four-character tag and the record's format version.
  void BeginRecord(std::string_view tag, uint32_t version);

  void U8(uint8_t value) { Raw(&value, sizeof(value)); }
  void U16(uint16_t value) { Raw(&value, sizeof(value)); }
  void U32(uint32_t value) { Raw(&value, sizeof(value)); }
  void U64(uint64_t value) { Raw(&value, sizeof(value)); }
  void Bool(bool value) { U8(value ? 1 : 0); }
  void String(std::string_view value);
  void Bytes(std::span<const uint8_t> value);
  // A plain struct (a KVM state struct): stored as its bytes with its size,
  // so a reader built against a different layout refuses it.
  template <typename T>
  requires std::is_trivially_copyable_v<T>
  void Struct(const T& value) {
    Bytes(std::span(reinterpret_cast<const uint8_t*>(&value), sizeof(T)));
  }

  const std::vector<uint8_t>& bytes() const { return bytes_; }
  std::vector<uint8_t> Take() { return std::move(bytes_); }

 private:
  void Raw(const void* data, size_t size);
  std::vector<uint8_t> bytes_;
};

class StateReader {
 public:
  // The largest single blob or string a record may hold.
  static constexpr uint32_t kMaxBlob = 64u << 20;

  explicit StateReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  // Reads a record header; fails unless the tag matches and the version is
  // one this build reads (== `version`).
  Result<void> ExpectRecord(std::string_view tag, uint32_t version);

  Result<uint8_t> U8();
  Result<uint16_t> U16();
  Result<uint32_t> U32();
  Result<uint64_t> U64();
  Result<bool> Bool();
  Result<std::string> String();
  Result<std::vector<uint8_t>> Bytes();
  template <typename T>
  requires std::is_trivially_copyable_v<T> Result<T> Struct(std::string_view what) {
    std::vector<uint8_t> bytes = VK_TRY(Bytes());
    if (bytes.size() != sizeof(T)) {
      return Error("saved " + std::string(what) + " has " + std::to_string(bytes.size()) +
                   " bytes, this build expects " + std::to_string(sizeof(T)));
    }
    T value;
    std::memcpy(&value, bytes.data(), sizeof(T));
    return value;
  }

  size_t remaining() const { return bytes_.size() - offset_; }
  // Everything was read: trailing bytes mean a format mismatch.
  Result<void> Finish() const;

 private:
  Result<void> Raw(void* out, size_t size);
  std::span<const uint8_t> bytes_;
  size_t offset_ = 0;
};

}  // namespace vk
