// DHCP messages (RFC 2131 §2, options RFC 2132): the BOOTP fixed header,
// the magic cookie and the options field. Option overload (option 52) is not
// honoured: sname/file are never read as options; clients we serve do not
// need it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "net/ethernet.h"

namespace vk::net {

inline constexpr uint16_t kDhcpServerPort = 67;
inline constexpr uint16_t kDhcpClientPort = 68;
inline constexpr size_t kDhcpFixedSize = 236;  // up to and including `file`
inline constexpr uint32_t kDhcpMagicCookie = 0x63825363;
inline constexpr uint16_t kDhcpBroadcastFlag = 0x8000;

enum DhcpOption : uint8_t {
  kDhcpOptPad = 0,
  kDhcpOptSubnetMask = 1,
  kDhcpOptRouter = 3,
  kDhcpOptDnsServer = 6,
  kDhcpOptHostName = 12,
  kDhcpOptDomainName = 15,
  kDhcpOptInterfaceMtu = 26,
  kDhcpOptBroadcast = 28,
  kDhcpOptRequestedIp = 50,
  kDhcpOptLeaseTime = 51,
  kDhcpOptMessageType = 53,
  kDhcpOptServerId = 54,
  kDhcpOptParameterList = 55,
  kDhcpOptMessage = 56,
  kDhcpOptRenewalTime = 58,
  kDhcpOptRebindingTime = 59,
  kDhcpOptClientId = 61,
  kDhcpOptEnd = 255,
};

enum class DhcpType : uint8_t {
  kDiscover = 1,
  kOffer = 2,
  kRequest = 3,
  kDecline = 4,
  kAck = 5,
  kNak = 6,
  kRelease = 7,
  kInform = 8,
};

struct DhcpMessage {
  uint8_t op = 0;  // 1 BOOTREQUEST, 2 BOOTREPLY
  uint32_t xid = 0;
  uint16_t secs = 0;
  uint16_t flags = 0;
  uint32_t ciaddr = 0;
  uint32_t yiaddr = 0;
  uint32_t siaddr = 0;
  uint32_t giaddr = 0;
  MacAddress chaddr;
  // Repeated codes are concatenated (RFC 3396 §7).
  std::map<uint8_t, std::vector<uint8_t>> options;

  std::optional<DhcpType> type() const;
  std::optional<uint32_t> OptionIp(uint8_t code) const;  // exactly 4 bytes
  std::optional<std::string> OptionString(uint8_t code) const;
  void SetIp(uint8_t code, uint32_t ip);
  void SetU32(uint8_t code, uint32_t value);
  void SetU16(uint8_t code, uint16_t value);
  void SetString(uint8_t code, std::string_view text);
};

// Requires htype 1/hlen 6 (Ethernet) and the magic cookie; options must be
// well formed up to End (or the end of the buffer).
Result<DhcpMessage> ParseDhcp(Bytes payload);
// BOOTREPLY/REQUEST bytes: fixed header, cookie, options (in code order,
// message type first), End, padded to the 300-byte BOOTP minimum.
std::vector<uint8_t> BuildDhcp(const DhcpMessage& message);

}  // namespace vk::net
