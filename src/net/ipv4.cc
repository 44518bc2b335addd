#include "net/ipv4.h"

#include "net/checksum.h"

namespace vk::net {

Result<Ipv4Packet> ParseIpv4Packet(Bytes data) {
  ByteReader reader(data);
  Ipv4Header h;
  uint8_t version_ihl = reader.U8();
  h.tos = reader.U8();
  h.total_length = reader.U16();
  h.id = reader.U16();
  h.flags_fragment = reader.U16();
  h.ttl = reader.U8();
  h.protocol = reader.U8();
  reader.U16();  // checksum: verified over the raw header below
  h.src = reader.U32();
  h.dst = reader.U32();
  if (!reader.ok()) return Error("ipv4: truncated header");
  if (version_ihl >> 4 != 4) return Error("ipv4: not version 4");
  h.header_length = static_cast<uint8_t>((version_ihl & 0x0f) * 4);
  if (h.header_length < kIpv4MinHeader) return Error("ipv4: IHL below 5");
  if (h.total_length < h.header_length || h.total_length > data.size()) {
    return Error("ipv4: total length outside the frame");
  }
  if (InternetChecksum(data.first(h.header_length)) != 0) return Error("ipv4: bad checksum");
  Ipv4Packet packet;
  packet.header = h;
  packet.packet = data.first(h.total_length);
  packet.payload = packet.packet.subspan(h.header_length);
  return packet;
}

std::vector<uint8_t> BuildIpv4Packet(uint8_t protocol, uint32_t src, uint32_t dst, Bytes payload,
                                     uint8_t ttl) {
  std::vector<uint8_t> out;
  out.reserve(kIpv4MinHeader + payload.size());
  ByteWriter writer(out);
  writer.U8(0x45);
  writer.U8(0);
  writer.U16(static_cast<uint16_t>(kIpv4MinHeader + payload.size()));
  writer.U16(0);  // id: we never fragment (RFC 6864 §4.1 allows any value)
  writer.U16(0);
  writer.U8(ttl);
  writer.U8(protocol);
  writer.U16(0);
  writer.U32(src);
  writer.U32(dst);
  Store16(out, 10, InternetChecksum(Bytes(out).first(kIpv4MinHeader)));
  writer.Append(payload);
  return out;
}

}  // namespace vk::net
