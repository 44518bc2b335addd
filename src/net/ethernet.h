// Ethernet II frames (IEEE 802.3 with an EtherType >= 0x0600), without FCS.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "net/frame_bytes.h"

namespace vk::net {

inline constexpr size_t kEthernetHeaderSize = 14;
inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeArp = 0x0806;

struct MacAddress {
  std::array<uint8_t, 6> bytes{};

  static constexpr MacAddress Broadcast() { return {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
  static MacAddress FromBytes(Bytes six);                         // caller passes exactly 6 bytes
  static std::optional<MacAddress> Parse(std::string_view text);  // "5a:94:ef:e4:0c:dd"

  // I/G bit (IEEE 802 §8.2): group addresses include broadcast.
  bool IsMulticast() const { return (bytes[0] & 1) != 0; }
  bool IsBroadcast() const { return *this == Broadcast(); }
  bool IsZero() const { return *this == MacAddress{}; }
  uint64_t ToU64() const;
  std::string ToString() const;
  friend bool operator==(const MacAddress&, const MacAddress&) = default;
};

struct EthernetHeader {
  MacAddress dst;
  MacAddress src;
  uint16_t ether_type = 0;
};

struct EthernetFrame {
  EthernetHeader header;
  Bytes payload;  // may include trailing padding up to the 60-byte minimum
};

// Rejects frames shorter than a header; accepts 802.3 length/VLAN types as
// opaque (the switch forwards them, the gateway ignores them).
Result<EthernetFrame> ParseEthernet(Bytes frame);

std::vector<uint8_t> BuildEthernetFrame(const MacAddress& dst, const MacAddress& src,
                                        uint16_t ether_type, Bytes payload);

}  // namespace vk::net
