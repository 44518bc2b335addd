#include "base/state_stream.h"

#include <algorithm>

namespace vk {
namespace {
constexpr size_t kTagSize = 4;
}  // namespace

void StateWriter::Raw(const void* data, size_t size) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  bytes_.insert(bytes_.end(), bytes, bytes + size);
}

void StateWriter::BeginRecord(std::string_view tag, uint32_t version) {
  char padded[kTagSize] = {' ', ' ', ' ', ' '};
  std::memcpy(padded, tag.data(), std::min(tag.size(), kTagSize));
  Raw(padded, kTagSize);
  U32(version);
}

void StateWriter::String(std::string_view value) {
  U32(static_cast<uint32_t>(value.size()));
  Raw(value.data(), value.size());
}

void StateWriter::Bytes(std::span<const uint8_t> value) {
  U32(static_cast<uint32_t>(value.size()));
  Raw(value.data(), value.size());
}

Result<void> StateReader::Raw(void* out, size_t size) {
  if (size == 0) return Ok();  // an empty blob's buffer may be null: no memcpy
  if (size > remaining()) {
    return Error("saved state is truncated (wanted " + std::to_string(size) + " bytes at offset " +
                 std::to_string(offset_) + ", " + std::to_string(remaining()) + " left)");
  }
  std::memcpy(out, bytes_.data() + offset_, size);
  offset_ += size;
  return Ok();
}

Result<void> StateReader::ExpectRecord(std::string_view tag, uint32_t version) {
  char got[kTagSize];
  VK_TRY(Raw(got, kTagSize));
  char want[kTagSize] = {' ', ' ', ' ', ' '};
  std::memcpy(want, tag.data(), std::min(tag.size(), kTagSize));
  if (std::memcmp(got, want, kTagSize) != 0) {
    return Error("saved state: expected a '" + std::string(tag) + "' record, found '" +
                 std::string(got, kTagSize) + "'");
  }
  uint32_t got_version = VK_TRY(U32());
  if (got_version != version) {
    return Error("saved state: '" + std::string(tag) + "' record version " +
                 std::to_string(got_version) + ", this build reads version " +
                 std::to_string(version));
  }
  return Ok();
}

Result<uint8_t> StateReader::U8() {
  uint8_t value;
  VK_TRY(Raw(&value, sizeof(value)));
  return value;
}
Result<uint16_t> StateReader::U16() {
  uint16_t value;
  VK_TRY(Raw(&value, sizeof(value)));
  return value;
}
Result<uint32_t> StateReader::U32() {
  uint32_t value;
  VK_TRY(Raw(&value, sizeof(value)));
  return value;
}
Result<uint64_t> StateReader::U64() {
  uint64_t value;
  VK_TRY(Raw(&value, sizeof(value)));
  return value;
}

Result<bool> StateReader::Bool() {
  uint8_t value = VK_TRY(U8());
  if (value > 1) return Error("saved state: a flag holds " + std::to_string(value));
  return value == 1;
}

Result<std::vector<uint8_t>> StateReader::Bytes() {
  uint32_t size = VK_TRY(U32());
  if (size > kMaxBlob) return Error("saved state: a blob of " + std::to_string(size) + " bytes");
  std::vector<uint8_t> value(size);
  VK_TRY(Raw(value.data(), size));
  return value;
}

Result<std::string> StateReader::String() {
  std::vector<uint8_t> bytes = VK_TRY(Bytes());
  return std::string(bytes.begin(), bytes.end());
}

Result<void> StateReader::Finish() const {
  if (remaining() != 0) {
    return Error("saved state has " + std::to_string(remaining()) +
                 " unexpected trailing bytes (a different format?)");
  }
  return Ok();
}

}  // namespace vk
