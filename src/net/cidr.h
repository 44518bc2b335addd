// IPv4 addresses and CIDR blocks as written in firewall rules and egress
// allow lists. Addresses are uint32_t in host byte order (10.0.0.1 is
// 0x0A000001) so callers compare and mask them without byte swapping.
//
// Parsing is strict because these strings are security policy: a typo must
// be an error, never a silently different network.
//   - exactly four dotted decimal octets, each 0..255 ("1.2.3" is rejected,
//     unlike inet_aton, which reads it as 1.2.0.3);
//   - no leading zeros ("010.0.0.1" is octal 8.0.0.1 to inet_aton and
//     decimal 10.0.0.1 to others, so neither reading is safe);
//   - prefix length 0..32 without leading zeros or sign;
//   - no host bits beyond the prefix ("10.0.0.1/8" is almost always a
//     mistake for 10.0.0.0/8 or 10.0.0.1/32, and we cannot tell which);
//   - no whitespace anywhere (callers trim).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace vk::net {

struct Cidr {
  uint32_t base = 0;       // network address, host bits zero
  uint8_t prefix_len = 0;  // 0 (everything) .. 32 (one address)

  static Cidr Any() { return {}; }
  static Cidr Host(uint32_t ip) { return {ip, 32}; }

  uint32_t Mask() const { return prefix_len == 0 ? 0 : ~uint32_t{0} << (32 - prefix_len); }
  bool Contains(uint32_t ip) const { return (ip & Mask()) == base; }
  bool IsAny() const { return prefix_len == 0; }
  // "10.0.0.0/8"; a /32 prints as the bare address, parseable by ParseCidr.
  std::string ToString() const;

  friend bool operator==(const Cidr&, const Cidr&) = default;
};

// "192.168.1.20" -> 0xC0A80114.
Result<uint32_t> ParseIpv4(std::string_view text);
// "10.0.0.0/8", or a bare address meaning /32.
Result<Cidr> ParseCidr(std::string_view text);
std::string FormatIpv4(uint32_t ip);

}  // namespace vk::net
