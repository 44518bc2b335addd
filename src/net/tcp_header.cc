#include "net/tcp_header.h"

namespace vk::net {

Result<TcpSegment> ParseTcp(const Ipv4Packet& ip, L4Checksum check) {
  if (ip.header.protocol != kIpProtoTcp) return Error("tcp: not a TCP packet");
  if (ip.header.fragment_offset() != 0) return Error("tcp: non-first fragment");
  ByteReader reader(ip.payload);
  TcpHeader h;
  h.src_port = reader.U16();
  h.dst_port = reader.U16();
  h.seq = reader.U32();
  h.ack = reader.U32();
  uint8_t offset = reader.U8();
  h.flags = reader.U8() & 0x3f;  // CWR/ECE (RFC 3168) are not classified here
  h.window = reader.U16();
  if (!reader.ok()) return Error("tcp: truncated header");
  h.header_length = static_cast<uint8_t>((offset >> 4) * 4);
  if (h.header_length < kTcpMinHeader || h.header_length > ip.payload.size()) {
    return Error("tcp: bad data offset");
  }
  // A first fragment holds only part of the segment, so its sum cannot verify.
  if (check == L4Checksum::kVerify && !ip.header.more_fragments() &&
      TransportChecksum(ip.header.src, ip.header.dst, kIpProtoTcp, ip.payload) != 0) {
    return Error("tcp: bad checksum");
  }
  return TcpSegment{h, ip.payload.subspan(h.header_length)};
}

std::vector<uint8_t> BuildTcpPacket(uint32_t src_ip, uint32_t dst_ip, const TcpHeader& header,
                                    Bytes payload) {
  std::vector<uint8_t> segment;
  ByteWriter writer(segment);
  writer.U16(header.src_port);
  writer.U16(header.dst_port);
  writer.U32(header.seq);
  writer.U32(header.ack);
  writer.U8((kTcpMinHeader / 4) << 4);
  writer.U8(header.flags);
  writer.U16(header.window);
  writer.U16(0);  // checksum, filled below
  writer.U16(0);  // urgent pointer
  writer.Append(payload);
  Store16(segment, 16, TransportChecksum(src_ip, dst_ip, kIpProtoTcp, segment));
  return BuildIpv4Packet(kIpProtoTcp, src_ip, dst_ip, segment);
}

}  // namespace vk::net
