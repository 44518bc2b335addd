#include "net/dhcp_message.h"

#include <algorithm>

namespace vk::net {
namespace {

// RFC 1542 §3.1.1: some relays drop BOOTP messages shorter than 300 bytes.
constexpr size_t kBootpMinimum = 300;

Result<void> ParseOptions(ByteReader& reader, DhcpMessage& message) {
  while (reader.remaining() > 0) {
    uint8_t code = reader.U8();
    if (code == kDhcpOptPad) continue;
    if (code == kDhcpOptEnd) return Ok();
    uint8_t length = reader.U8();
    Bytes value;
    reader.Take(length, &value);
    if (!reader.ok()) return Error("dhcp: option runs past the message");
    auto& stored = message.options[code];
    stored.insert(stored.end(), value.begin(), value.end());
  }
  return Ok();  // End missing: tolerated, as most servers do
}

}  // namespace

std::optional<DhcpType> DhcpMessage::type() const {
  auto it = options.find(kDhcpOptMessageType);
  if (it == options.end() || it->second.size() != 1) return std::nullopt;
  uint8_t value = it->second[0];
  if (value < 1 || value > 8) return std::nullopt;
  return static_cast<DhcpType>(value);
}

std::optional<uint32_t> DhcpMessage::OptionIp(uint8_t code) const {
  auto it = options.find(code);
  if (it == options.end() || it->second.size() != 4) return std::nullopt;
  ByteReader reader(it->second);
  return reader.U32();
}

std::optional<std::string> DhcpMessage::OptionString(uint8_t code) const {
  auto it = options.find(code);
  if (it == options.end()) return std::nullopt;
  return std::string(it->second.begin(), it->second.end());
}

void DhcpMessage::SetIp(uint8_t code, uint32_t ip) { SetU32(code, ip); }

void DhcpMessage::SetU32(uint8_t code, uint32_t value) {
  std::vector<uint8_t> bytes;
  ByteWriter(bytes).U32(value);
  options[code] = std::move(bytes);
}

void DhcpMessage::SetU16(uint8_t code, uint16_t value) {
  std::vector<uint8_t> bytes;
  ByteWriter(bytes).U16(value);
  options[code] = std::move(bytes);
}

void DhcpMessage::SetString(uint8_t code, std::string_view text) {
  options[code].assign(text.begin(), text.end());
}

Result<DhcpMessage> ParseDhcp(Bytes payload) {
  ByteReader reader(payload);
  DhcpMessage message;
  message.op = reader.U8();
  uint8_t htype = reader.U8();
  uint8_t hlen = reader.U8();
  reader.U8();  // hops
  message.xid = reader.U32();
  message.secs = reader.U16();
  message.flags = reader.U16();
  message.ciaddr = reader.U32();
  message.yiaddr = reader.U32();
  message.siaddr = reader.U32();
  message.giaddr = reader.U32();
  Bytes chaddr;
  reader.Take(16, &chaddr);
  reader.Skip(64 + 128);  // sname, file
  uint32_t cookie = reader.U32();
  if (!reader.ok()) return Error("dhcp: truncated");
  if (htype != 1 || hlen != 6) return Error("dhcp: hardware is not Ethernet");
  if (cookie != kDhcpMagicCookie) return Error("dhcp: no magic cookie (plain BOOTP)");
  message.chaddr = MacAddress::FromBytes(chaddr.first(6));
  VK_TRY(ParseOptions(reader, message));
  return message;
}

std::vector<uint8_t> BuildDhcp(const DhcpMessage& message) {
  std::vector<uint8_t> out;
  out.reserve(kBootpMinimum + 64);
  ByteWriter writer(out);
  writer.U8(message.op);
  writer.U8(1);
  writer.U8(6);
  writer.U8(0);
  writer.U32(message.xid);
  writer.U16(message.secs);
  writer.U16(message.flags);
  for (uint32_t ip : {message.ciaddr, message.yiaddr, message.siaddr, message.giaddr}) {
    writer.U32(ip);
  }
  writer.Append(message.chaddr.bytes);
  writer.Zeros(10 + 64 + 128);
  writer.U32(kDhcpMagicCookie);
  // RFC 2131 §4.1: the message type should come first.
  auto write_option = [&](uint8_t code, const std::vector<uint8_t>& value) {
    for (size_t at = 0; at < value.size() || at == 0; at += 255) {
      size_t n = std::min<size_t>(255, value.size() - at);  // RFC 3396 split
      writer.U8(code);
      writer.U8(static_cast<uint8_t>(n));
      writer.Append(Bytes(value).subspan(at, n));
      if (value.empty()) break;
    }
  };
  if (auto it = message.options.find(kDhcpOptMessageType); it != message.options.end()) {
    write_option(it->first, it->second);
  }
  for (const auto& [code, value] : message.options) {
    if (code != kDhcpOptMessageType && code != kDhcpOptPad && code != kDhcpOptEnd) {
      write_option(code, value);
    }
  }
  writer.U8(kDhcpOptEnd);
  if (out.size() < kBootpMinimum) writer.Zeros(kBootpMinimum - out.size());
  return out;
}

}  // namespace vk::net
