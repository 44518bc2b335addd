#include "net/reject.h"

#include <algorithm>

#include "net/checksum.h"
#include "net/ipv4.h"
#include "net/tcp_header.h"

namespace vk::net {
namespace {

std::optional<std::vector<uint8_t>> ResetFor(const Ipv4Packet& ip) {
  auto tcp = ParseTcp(ip, L4Checksum::kSkip);
  if (!tcp.ok() || tcp->header.Has(kTcpRst)) return std::nullopt;
  const TcpHeader& in = tcp->header;
  TcpHeader reset;
  reset.src_port = in.dst_port;
  reset.dst_port = in.src_port;
  if (in.Has(kTcpAck)) {
    reset.seq = in.ack;
    reset.flags = kTcpRst;
  } else {
    // SYN and FIN each take a sequence number.
    uint32_t length = static_cast<uint32_t>(tcp->payload.size()) + (in.Has(kTcpSyn) ? 1 : 0) +
                      (in.Has(kTcpFin) ? 1 : 0);
    reset.ack = in.seq + length;
    reset.flags = kTcpRst | kTcpAck;
  }
  return BuildTcpPacket(ip.header.dst, ip.header.src, reset);
}

bool IsIcmpError(const Ipv4Packet& ip) {
  if (ip.header.protocol != kIpProtoIcmp) return false;
  if (ip.payload.empty()) return true;  // unreadable: treat as an error, stay silent
  uint8_t type = ip.payload[0];
  return type != 0 && type != 8 && type != 13 && type != 15 && type != 17;  // not a query
}

std::vector<uint8_t> ProhibitedFor(const Ipv4Packet& ip, uint32_t icmp_source) {
  // The offending header and the first 8 bytes of its payload (RFC 792).
  size_t header_length = ip.packet.size() - ip.payload.size();
  size_t quoted = std::min(ip.packet.size(), header_length + 8);
  std::vector<uint8_t> message;
  ByteWriter writer(message);
  writer.U8(kIcmpUnreachable);
  writer.U8(kIcmpAdminProhibited);
  writer.U16(0);  // checksum, filled below
  writer.U32(0);  // unused
  writer.Append(ip.packet.first(quoted));
  Store16(message, 2, InternetChecksum(message));
  return BuildIpv4Packet(kIpProtoIcmp, icmp_source, ip.header.src, message);
}

}  // namespace

std::optional<std::vector<uint8_t>> BuildRejection(Bytes packet, uint32_t icmp_source) {
  auto ip = ParseIpv4Packet(packet);
  if (!ip.ok() || ip->header.fragment_offset() != 0) return std::nullopt;
  if (ip->header.protocol == kIpProtoTcp) return ResetFor(*ip);
  if (IsIcmpError(*ip)) return std::nullopt;
  return ProhibitedFor(*ip, icmp_source);
}

}  // namespace vk::net
