#include "net/firewall.h"

#include <gtest/gtest.h>

#include <array>

#include "net/egress_policy.h"

namespace vk::net {
namespace {

constexpr uint32_t kGuest = 0x0A00020F;   // 10.0.2.15
constexpr uint32_t kServer = 0x5DB8D822;  // 93.184.216.34
constexpr uint32_t kInside = 0x0A010203;  // 10.1.2.3
constexpr uint32_t kMetadata = 0xA9FEA9FE;

FlowKey Tcp(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t flags) {
  return {IpProto::kTcp, src, sport, dst, dport, flags};
}

FlowKey Udp(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport) {
  return {IpProto::kUdp, src, sport, dst, dport, 0};
}

Firewall Make(std::string_view text) {
  auto rules = ParseRules(text);
  EXPECT_TRUE(rules.ok()) << rules.error().message();
  return Firewall(std::move(*rules));
}

TEST(NetFirewall, FirstMatchWins) {
  Firewall firewall = Make(
      "reject egress any to 169.254.169.254\n"
      "allow egress tcp to 10.0.0.0/8 port 443\n"
      "deny egress tcp to 10.0.0.0/8\n"
      "allow egress tcp\n");
  auto verdict = [&](uint32_t dst, uint16_t port) {
    return firewall.Evaluate(Tcp(kGuest, 40000, dst, port, FlowKey::kSyn), Direction::kEgress);
  };
  EXPECT_EQ(verdict(kMetadata, 80), (Verdict{Action::kReject, VerdictReason::kRule, 0}));
  EXPECT_EQ(verdict(kInside, 443), (Verdict{Action::kAllow, VerdictReason::kRule, 1}));
  EXPECT_EQ(verdict(kInside, 22), (Verdict{Action::kDeny, VerdictReason::kRule, 2}));
  EXPECT_EQ(verdict(kServer, 22), (Verdict{Action::kAllow, VerdictReason::kRule, 3}));
  // Rules of the other direction never match.
  EXPECT_EQ(firewall.Evaluate(Tcp(kMetadata, 80, kGuest, 1, FlowKey::kSyn), Direction::kIngress),
            (Verdict{Action::kDeny, VerdictReason::kDefault, 0}));
}

TEST(NetFirewall, DefaultsPerDirection) {
  Firewall open = Make("");
  EXPECT_EQ(open.Evaluate(Udp(kGuest, 1, kServer, 2), Direction::kEgress).action, Action::kAllow);
  EXPECT_EQ(open.Evaluate(Udp(kServer, 2, kGuest, 1), Direction::kIngress).action, Action::kDeny);
  Firewall closed = Make("default reject egress\ndefault allow ingress");
  EXPECT_EQ(closed.Evaluate(Udp(kGuest, 1, kServer, 2), Direction::kEgress).action,
            Action::kReject);
  EXPECT_EQ(closed.Evaluate(Udp(kServer, 2, kGuest, 1), Direction::kIngress).action,
            Action::kAllow);
}

TEST(NetFirewall, MatchesProtocolsAndPorts) {
  Firewall firewall = Make(
      "default deny egress\n"
      "allow egress udp from any port 5000-5001 to any port 53\n"
      "allow egress icmp to 8.8.8.8\n");
  EXPECT_TRUE(firewall.Evaluate(Udp(kGuest, 5000, kServer, 53), Direction::kEgress).allowed());
  EXPECT_TRUE(firewall.Evaluate(Udp(kGuest, 5001, kServer, 53), Direction::kEgress).allowed());
  EXPECT_FALSE(firewall.Evaluate(Udp(kGuest, 5002, kServer, 53), Direction::kEgress).allowed());
  EXPECT_FALSE(firewall.Evaluate(Udp(kGuest, 5000, kServer, 54), Direction::kEgress).allowed());
  EXPECT_FALSE(firewall.Evaluate(Tcp(kGuest, 5000, kServer, 53, FlowKey::kSyn), Direction::kEgress)
                   .allowed());
  FlowKey ping{IpProto::kIcmp, kGuest, 7, 0x08080808, 7, 0};
  EXPECT_TRUE(firewall.Evaluate(ping, Direction::kEgress).allowed());
  ping.dst_ip = 0x08080404;
  EXPECT_FALSE(firewall.Evaluate(ping, Direction::kEgress).allowed());
}

TEST(NetFirewall, ReturnTrafficPassesWhileNewInboundIsDenied) {
  Firewall firewall = Make("allow egress tcp port 443");
  uint64_t now = 1000;
  EXPECT_TRUE(
      firewall.Check(Tcp(kGuest, 40000, kServer, 443, FlowKey::kSyn), Direction::kEgress, now)
          .allowed());
  Verdict reply = firewall.Check(Tcp(kServer, 443, kGuest, 40000, FlowKey::kSyn | FlowKey::kAck),
                                 Direction::kIngress, now + 10);
  EXPECT_EQ(reply, (Verdict{Action::kAllow, VerdictReason::kTracked, 0}));
  EXPECT_EQ(
      firewall.Check(Tcp(kGuest, 40000, kServer, 443, FlowKey::kAck), Direction::kEgress, now + 20)
          .reason,
      VerdictReason::kTracked);
  // The same server opening a connection of its own is new and denied.
  EXPECT_EQ(
      firewall.Check(Tcp(kServer, 443, kGuest, 22, FlowKey::kSyn), Direction::kIngress, now + 30),
      (Verdict{Action::kDeny, VerdictReason::kDefault, 0}));
  // Even on the tracked tuple, a pure SYN is not a reply.
  EXPECT_FALSE(
      firewall.Check(Tcp(kServer, 443, kGuest, 40000, FlowKey::kSyn), Direction::kIngress, now + 40)
          .allowed());
  // Denied flows create no state.
  EXPECT_EQ(firewall.conntrack().size(), 1u);
}

TEST(NetFirewall, DeniedEgressLeavesNoState) {
  Firewall firewall = Make("deny egress udp port 53");
  EXPECT_FALSE(firewall.Check(Udp(kGuest, 999, kServer, 53), Direction::kEgress, 0).allowed());
  EXPECT_FALSE(firewall.Check(Udp(kServer, 53, kGuest, 999), Direction::kIngress, 1).allowed());
  EXPECT_EQ(firewall.conntrack().size(), 0u);
}

TEST(NetFirewall, StrayResetPassesOnRulesWithoutState) {
  Firewall firewall = Make("");
  EXPECT_TRUE(
      firewall.Check(Tcp(kGuest, 1, kServer, 2, FlowKey::kRst), Direction::kEgress, 0).allowed());
  EXPECT_EQ(firewall.conntrack().size(), 0u);
}

TEST(NetFirewall, EgressPolicyRejectsUnlistedDestinations) {
  EgressPolicy policy(*ParseEgressAllow("example.com,10.0.0.0/8"));
  Firewall firewall = Make("");
  firewall.SetEgressPolicy(&policy);
  EXPECT_TRUE(
      firewall.Check(Tcp(kGuest, 1, kInside, 80, FlowKey::kSyn), Direction::kEgress, 0).allowed());
  EXPECT_EQ(firewall.Check(Tcp(kGuest, 2, kServer, 443, FlowKey::kSyn), Direction::kEgress, 0),
            (Verdict{Action::kReject, VerdictReason::kEgressPolicy, 0}));
  std::array<uint32_t, 1> answer{kServer};
  policy.Learn("example.com", answer, 60, 0);
  EXPECT_TRUE(
      firewall.Check(Tcp(kGuest, 3, kServer, 443, FlowKey::kSyn), Direction::kEgress, 1).allowed());
  // The connection outlives the DNS answer: tracked packets skip the policy.
  EXPECT_TRUE(firewall
                  .Check(Tcp(kServer, 443, kGuest, 3, FlowKey::kSyn | FlowKey::kAck),
                         Direction::kIngress, 2)
                  .allowed());
  EXPECT_EQ(firewall.Check(Tcp(kGuest, 3, kServer, 443, FlowKey::kAck), Direction::kEgress, 61'000)
                .reason,
            VerdictReason::kTracked);
  EXPECT_FALSE(
      firewall.Check(Tcp(kGuest, 4, kServer, 443, FlowKey::kSyn), Direction::kEgress, 61'000)
          .allowed());
}

TEST(NetFirewall, RulesDenyBeforeEgressPolicy) {
  EgressPolicy policy(*ParseEgressAllow("0.0.0.0/0"));
  Firewall firewall = Make("deny egress any to 169.254.169.254");
  firewall.SetEgressPolicy(&policy);
  EXPECT_EQ(firewall.Check(Udp(kGuest, 1, kMetadata, 80), Direction::kEgress, 0),
            (Verdict{Action::kDeny, VerdictReason::kRule, 0}));
}

}  // namespace
}  // namespace vk::net
