#include "net/ethernet.h"

#include <fmt/format.h>

#include <algorithm>

namespace vk::net {

MacAddress MacAddress::FromBytes(Bytes six) {
  MacAddress mac;
  std::copy_n(six.begin(), std::min<size_t>(six.size(), 6), mac.bytes.begin());
  return mac;
}

std::optional<MacAddress> MacAddress::Parse(std::string_view text) {
  MacAddress mac;
  if (text.size() != 17) return std::nullopt;
  for (size_t i = 0; i < 6; ++i) {
    if (i > 0 && text[i * 3 - 1] != ':') return std::nullopt;
    unsigned value = 0;
    for (char c : text.substr(i * 3, 2)) {
      int digit = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
      if (digit < 0) return std::nullopt;
      value = value * 16 + static_cast<unsigned>(digit);
    }
    mac.bytes[i] = static_cast<uint8_t>(value);
  }
  return mac;
}

uint64_t MacAddress::ToU64() const {
  uint64_t value = 0;
  for (uint8_t b : bytes) value = value << 8 | b;
  return value;
}

std::string MacAddress::ToString() const {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", bytes[0], bytes[1], bytes[2],
                     bytes[3], bytes[4], bytes[5]);
}

Result<EthernetFrame> ParseEthernet(Bytes frame) {
  ByteReader reader(frame);
  Bytes dst, src;
  reader.Take(6, &dst);
  reader.Take(6, &src);
  uint16_t ether_type = reader.U16();
  if (!reader.ok()) return Error("ethernet: frame shorter than its header");
  EthernetFrame parsed;
  parsed.header = {MacAddress::FromBytes(dst), MacAddress::FromBytes(src), ether_type};
  parsed.payload = frame.subspan(kEthernetHeaderSize);
  return parsed;
}

std::vector<uint8_t> BuildEthernetFrame(const MacAddress& dst, const MacAddress& src,
                                        uint16_t ether_type, Bytes payload) {
  std::vector<uint8_t> frame;
  frame.reserve(kEthernetHeaderSize + payload.size());
  ByteWriter writer(frame);
  writer.Append(dst.bytes);
  writer.Append(src.bytes);
  writer.U16(ether_type);
  writer.Append(payload);
  return frame;
}

}  // namespace vk::net
