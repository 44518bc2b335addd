// UDP (RFC 768) over IPv4.
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.h"
#include "net/checksum.h"
#include "net/ipv4.h"

namespace vk::net {

inline constexpr size_t kUdpHeaderSize = 8;

struct UdpDatagram {
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  Bytes payload;
};

// Parses the UDP payload of a non-fragmented IPv4 packet: the UDP length must
// fit the IP payload (trailing bytes are ignored), and a non-zero checksum
// must verify (zero means "none sent", RFC 768).
Result<UdpDatagram> ParseUdp(const Ipv4Packet& ip, L4Checksum check = L4Checksum::kVerify);

// A UDP datagram (the IPv4 payload) with checksum; 0 is sent as 0xffff.
std::vector<uint8_t> BuildUdpDatagram(uint32_t src_ip, uint32_t dst_ip, uint16_t src_port,
                                      uint16_t dst_port, Bytes payload);

// Ethernet-less convenience: a complete IPv4 packet carrying a UDP datagram.
std::vector<uint8_t> BuildUdpPacket(uint32_t src_ip, uint32_t dst_ip, uint16_t src_port,
                                    uint16_t dst_port, Bytes payload);

}  // namespace vk::net
