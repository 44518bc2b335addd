#include "net/udp.h"

#include "net/checksum.h"

namespace vk::net {

Result<UdpDatagram> ParseUdp(const Ipv4Packet& ip, L4Checksum check) {
  if (ip.header.protocol != kIpProtoUdp) return Error("udp: not a UDP packet");
  if (ip.header.is_fragment()) return Error("udp: fragmented");
  ByteReader reader(ip.payload);
  UdpDatagram udp;
  udp.src_port = reader.U16();
  udp.dst_port = reader.U16();
  uint16_t length = reader.U16();
  uint16_t checksum = reader.U16();
  if (!reader.ok()) return Error("udp: truncated header");
  if (length < kUdpHeaderSize || length > ip.payload.size()) return Error("udp: bad length");
  Bytes segment = ip.payload.first(length);
  if (check == L4Checksum::kVerify && checksum != 0 &&
      TransportChecksum(ip.header.src, ip.header.dst, kIpProtoUdp, segment) != 0) {
    return Error("udp: bad checksum");
  }
  udp.payload = segment.subspan(kUdpHeaderSize);
  return udp;
}

std::vector<uint8_t> BuildUdpDatagram(uint32_t src_ip, uint32_t dst_ip, uint16_t src_port,
                                      uint16_t dst_port, Bytes payload) {
  std::vector<uint8_t> out;
  out.reserve(kUdpHeaderSize + payload.size());
  ByteWriter writer(out);
  writer.U16(src_port);
  writer.U16(dst_port);
  writer.U16(static_cast<uint16_t>(kUdpHeaderSize + payload.size()));
  writer.U16(0);
  writer.Append(payload);
  uint16_t checksum = TransportChecksum(src_ip, dst_ip, kIpProtoUdp, out);
  Store16(out, 6, checksum == 0 ? 0xffff : checksum);  // RFC 768: 0 means "no checksum"
  return out;
}

std::vector<uint8_t> BuildUdpPacket(uint32_t src_ip, uint32_t dst_ip, uint16_t src_port,
                                    uint16_t dst_port, Bytes payload) {
  return BuildIpv4Packet(kIpProtoUdp, src_ip, dst_ip,
                         BuildUdpDatagram(src_ip, dst_ip, src_port, dst_port, payload));
}

}  // namespace vk::net
