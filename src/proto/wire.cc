#include "proto/wire.h"

namespace vk::proto {

void ByteWriter::U16(uint16_t value) {
  U8(static_cast<uint8_t>(value >> 8));
  U8(static_cast<uint8_t>(value));
}

void ByteWriter::U32(uint32_t value) {
  U16(static_cast<uint16_t>(value >> 16));
  U16(static_cast<uint16_t>(value));
}

void ByteWriter::U64(uint64_t value) {
  U32(static_cast<uint32_t>(value >> 32));
  U32(static_cast<uint32_t>(value));
}

void ByteWriter::String(std::string_view text) {
  U32(static_cast<uint32_t>(text.size()));
  bytes_.insert(bytes_.end(), text.begin(), text.end());
}

std::optional<std::span<const uint8_t>> ByteReader::Take(size_t count) {
  if (count > remaining()) return std::nullopt;
  auto view = data_.subspan(offset_, count);
  offset_ += count;
  return view;
}

std::optional<uint8_t> ByteReader::U8() {
  auto bytes = Take(1);
  if (!bytes) return std::nullopt;
  return (*bytes)[0];
}

std::optional<uint16_t> ByteReader::U16() {
  auto bytes = Take(2);
  if (!bytes) return std::nullopt;
  return static_cast<uint16_t>(((*bytes)[0] << 8) | (*bytes)[1]);
}

std::optional<uint32_t> ByteReader::U32() {
  auto bytes = Take(4);
  if (!bytes) return std::nullopt;
  return (uint32_t{(*bytes)[0]} << 24) | (uint32_t{(*bytes)[1]} << 16) |
         (uint32_t{(*bytes)[2]} << 8) | uint32_t{(*bytes)[3]};
}

std::optional<uint64_t> ByteReader::U64() {
  auto high = U32();
  auto low = U32();
  if (!high || !low) return std::nullopt;
  return (uint64_t{*high} << 32) | *low;
}

std::optional<std::string> ByteReader::String(size_t max_length) {
  auto length = U32();
  if (!length || *length > max_length) return std::nullopt;
  auto bytes = Take(*length);
  if (!bytes) return std::nullopt;
  return std::string(bytes->begin(), bytes->end());
}

}  // namespace vk::proto
