// ICMP echo request/reply (RFC 792): the only ICMP the gateway answers itself.
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.h"
#include "net/frame_bytes.h"

namespace vk::net {

inline constexpr uint8_t kIcmpEchoReply = 0;
inline constexpr uint8_t kIcmpEchoRequest = 8;

struct IcmpEcho {
  uint8_t type = 0;
  uint16_t id = 0;
  uint16_t sequence = 0;
  Bytes data;
};

// Parses an ICMP message that is an echo request or reply, checking the
// checksum over the whole message. Pass the payload of a non-fragment.
Result<IcmpEcho> ParseIcmpEcho(Bytes icmp);

// An ICMP echo message (the IPv4 payload) with checksum.
std::vector<uint8_t> BuildIcmpEcho(uint8_t type, uint16_t id, uint16_t sequence, Bytes data);

}  // namespace vk::net
