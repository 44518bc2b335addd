// Vocabulary shared by the firewall, its rules and connection tracking. The
// frame parser fills a FlowKey from an already validated IPv4 header; this
// layer never sees raw frames.
#pragma once

#include <cstdint>
#include <string_view>

namespace vk::net {

// Seen from the guest: egress leaves the guest for the outside world,
// ingress arrives at the guest from outside.
enum class Direction : uint8_t { kEgress, kIngress };

// Reject drops like deny but tells the sender (TCP RST or ICMP port
// unreachable, sent by the caller) so clients fail fast instead of timing out.
enum class Action : uint8_t { kAllow, kDeny, kReject };

// IP protocol numbers (IANA), so a parsed header maps over directly.
enum class IpProto : uint8_t { kIcmp = 1, kTcp = 6, kUdp = 17 };

// One packet's flow identity, addresses in host byte order. For ICMP only
// echo request/reply are flows: both ports hold the echo identifier, so a
// reply is the reverse key of its request. ICMP errors belong to the flow
// they quote and the caller checks that flow's key instead.
struct FlowKey {
  IpProto proto = IpProto::kTcp;
  uint32_t src_ip = 0;
  uint16_t src_port = 0;
  uint32_t dst_ip = 0;
  uint16_t dst_port = 0;
  uint8_t tcp_flags = 0;  // TCP header flag byte; ignored for UDP and ICMP

  // The tcp_flags bits conntrack reads, at their RFC 9293 §3.1 positions so
  // the parsed header's flag byte is copied as is. Scoped here so they do
  // not clash with the header parser's own names.
  static constexpr uint8_t kFin = 0x01;
  static constexpr uint8_t kSyn = 0x02;
  static constexpr uint8_t kRst = 0x04;
  static constexpr uint8_t kAck = 0x10;

  FlowKey Reversed() const { return {proto, dst_ip, dst_port, src_ip, src_port, tcp_flags}; }
};

inline Direction Opposite(Direction direction) {
  return direction == Direction::kEgress ? Direction::kIngress : Direction::kEgress;
}

inline std::string_view ToString(Direction direction) {
  return direction == Direction::kEgress ? "egress" : "ingress";
}

inline std::string_view ToString(Action action) {
  switch (action) {
    case Action::kAllow: return "allow";
    case Action::kDeny: return "deny";
    case Action::kReject: return "reject";
  }
  return "deny";
}

}  // namespace vk::net
