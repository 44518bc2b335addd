#include "net/arp.h"

namespace vk::net {

Result<ArpPacket> ParseArp(Bytes payload) {
  ByteReader reader(payload);
  uint16_t hardware_type = reader.U16();
  uint16_t protocol_type = reader.U16();
  uint8_t hardware_len = reader.U8();
  uint8_t protocol_len = reader.U8();
  ArpPacket arp;
  arp.operation = reader.U16();
  Bytes sha, tha;
  reader.Take(6, &sha);
  arp.sender_ip = reader.U32();
  reader.Take(6, &tha);
  arp.target_ip = reader.U32();
  if (!reader.ok()) return Error("arp: truncated");
  // RFC 826: htype 1 (Ethernet), ptype 0x0800, hlen 6, plen 4.
  if (hardware_type != 1 || protocol_type != kEtherTypeIpv4 || hardware_len != 6 ||
      protocol_len != 4) {
    return Error("arp: not IPv4 over Ethernet");
  }
  if (arp.operation != kArpRequest && arp.operation != kArpReply) {
    return Error("arp: unknown operation");
  }
  arp.sender_mac = MacAddress::FromBytes(sha);
  arp.target_mac = MacAddress::FromBytes(tha);
  return arp;
}

std::vector<uint8_t> BuildArp(const ArpPacket& packet) {
  std::vector<uint8_t> out;
  out.reserve(kArpSize);
  ByteWriter writer(out);
  writer.U16(1);
  writer.U16(kEtherTypeIpv4);
  writer.U8(6);
  writer.U8(4);
  writer.U16(packet.operation);
  writer.Append(packet.sender_mac.bytes);
  writer.U32(packet.sender_ip);
  writer.Append(packet.target_mac.bytes);
  writer.U32(packet.target_ip);
  return out;
}

}  // namespace vk::net
