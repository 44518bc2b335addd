// The fixed part of a TCP header (RFC 793 §3.1, RFC 9293 §3.1): enough for
// the firewall and conntrack to classify segments. Options are not parsed.
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.h"
#include "net/checksum.h"
#include "net/ipv4.h"

namespace vk::net {

inline constexpr size_t kTcpMinHeader = 20;

enum TcpFlag : uint8_t {
  kTcpFin = 0x01,
  kTcpSyn = 0x02,
  kTcpRst = 0x04,
  kTcpPsh = 0x08,
  kTcpAck = 0x10,
  kTcpUrg = 0x20,
};

struct TcpHeader {
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t header_length = 0;  // bytes (data offset * 4)
  uint8_t flags = 0;
  uint16_t window = 0;

  bool Has(TcpFlag flag) const { return (flags & flag) != 0; }
};

struct TcpSegment {
  TcpHeader header;
  Bytes payload;
};

// Parses the TCP header of a first (or only) IPv4 fragment; checks the data
// offset lies within the payload. The checksum is verified only on request
// (offloading devices leave it partial).
Result<TcpSegment> ParseTcp(const Ipv4Packet& ip, L4Checksum check = L4Checksum::kVerify);

// An IPv4 packet carrying one TCP segment with `header`'s ports, numbers,
// flags and window (no options; header_length is ignored), checksums filled.
std::vector<uint8_t> BuildTcpPacket(uint32_t src_ip, uint32_t dst_ip, const TcpHeader& header,
                                    Bytes payload = {});

}  // namespace vk::net
