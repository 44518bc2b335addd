// IPv4 headers (RFC 791). Addresses are host-order uint32_t. Options are
// skipped, not interpreted; fragments are surfaced so callers treat
// non-first fragments as opaque (they carry no transport header).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "net/cidr.h"
#include "net/frame_bytes.h"

namespace vk::net {

inline constexpr size_t kIpv4MinHeader = 20;
inline constexpr uint8_t kIpProtoIcmp = 1;
inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kIpProtoUdp = 17;
inline constexpr uint32_t kIpv4Broadcast = 0xffffffff;

constexpr uint32_t Ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return uint32_t{a} << 24 | uint32_t{b} << 16 | uint32_t{c} << 8 | d;
}
// Text forms (FormatIpv4, ParseIpv4 from text) live in net/cidr.h.
// Netmask for a prefix length 0..32.
constexpr uint32_t PrefixMask(unsigned prefix) {
  return prefix == 0 ? 0 : ~uint32_t{0} << (32 - (prefix > 32 ? 32 : prefix));
}

struct Ipv4Header {
  uint8_t header_length = 0;  // bytes (IHL * 4)
  uint8_t tos = 0;
  uint16_t total_length = 0;
  uint16_t id = 0;
  uint16_t flags_fragment = 0;
  uint8_t ttl = 0;
  uint8_t protocol = 0;
  uint32_t src = 0;
  uint32_t dst = 0;

  bool more_fragments() const { return (flags_fragment & 0x2000) != 0; }
  uint16_t fragment_offset() const { return flags_fragment & 0x1fff; }  // 8-byte units
  bool is_fragment() const { return more_fragments() || fragment_offset() != 0; }
};

struct Ipv4Packet {
  Ipv4Header header;
  Bytes packet;   // header + payload, trimmed to total_length (drops link padding)
  Bytes payload;  // transport bytes (for a fragment: only this fragment's)
};

// Checks version, IHL >= 5, total length within the buffer and the header
// checksum (RFC 791 §3.1, RFC 1071).
Result<Ipv4Packet> ParseIpv4Packet(Bytes data);

// A 20-byte header (no options, DF clear) + payload, with checksum.
std::vector<uint8_t> BuildIpv4Packet(uint8_t protocol, uint32_t src, uint32_t dst, Bytes payload,
                                     uint8_t ttl = 64);

}  // namespace vk::net
