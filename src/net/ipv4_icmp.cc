#include "net/ipv4_icmp.h"

#include "net/checksum.h"

namespace vk::net {

Result<IcmpEcho> ParseIcmpEcho(Bytes icmp) {
  ByteReader reader(icmp);
  IcmpEcho echo;
  echo.type = reader.U8();
  uint8_t code = reader.U8();
  reader.U16();
  echo.id = reader.U16();
  echo.sequence = reader.U16();
  if (!reader.ok()) return Error("icmp: truncated echo");
  if (echo.type != kIcmpEchoRequest && echo.type != kIcmpEchoReply) {
    return Error("icmp: not an echo");
  }
  if (code != 0) return Error("icmp: echo code not 0");
  if (InternetChecksum(icmp) != 0) return Error("icmp: bad checksum");
  echo.data = icmp.subspan(8);
  return echo;
}

std::vector<uint8_t> BuildIcmpEcho(uint8_t type, uint16_t id, uint16_t sequence, Bytes data) {
  std::vector<uint8_t> out;
  out.reserve(8 + data.size());
  ByteWriter writer(out);
  writer.U8(type);
  writer.U8(0);
  writer.U16(0);
  writer.U16(id);
  writer.U16(sequence);
  writer.Append(data);
  Store16(out, 2, InternetChecksum(out));
  return out;
}

}  // namespace vk::net
