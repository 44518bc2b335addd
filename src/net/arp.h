// ARP for IPv4 over Ethernet (RFC 826): the only hardware/protocol pair on
// our LAN, so other combinations are rejected rather than parsed.
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.h"
#include "net/ethernet.h"

namespace vk::net {

inline constexpr size_t kArpSize = 28;
inline constexpr uint16_t kArpRequest = 1;
inline constexpr uint16_t kArpReply = 2;

struct ArpPacket {
  uint16_t operation = 0;
  MacAddress sender_mac;
  uint32_t sender_ip = 0;
  MacAddress target_mac;
  uint32_t target_ip = 0;
};

Result<ArpPacket> ParseArp(Bytes payload);
// The 28-byte ARP payload (wrap with BuildEthernetFrame).
std::vector<uint8_t> BuildArp(const ArpPacket& packet);

}  // namespace vk::net
