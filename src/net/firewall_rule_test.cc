#include "net/firewall_rule.h"

#include <gtest/gtest.h>

namespace vk::net {
namespace {

std::string ErrorOf(std::string_view text) {
  auto rule = ParseRule(text);
  return rule.ok() ? "ok: " + rule->ToString() : rule.error().message();
}

std::string ListErrorOf(std::string_view text) {
  auto rules = ParseRules(text);
  return rules.ok() ? "ok" : rules.error().message();
}

TEST(NetFirewallRule, ParsesExamples) {
  Rule https = *ParseRule("allow egress tcp to 10.0.0.0/8 port 443");
  EXPECT_EQ(https.action, Action::kAllow);
  EXPECT_EQ(https.direction, Direction::kEgress);
  EXPECT_EQ(https.proto, IpProto::kTcp);
  EXPECT_EQ(https.src, Cidr::Any());
  EXPECT_EQ(https.dst, (Cidr{0x0A000000, 8}));
  EXPECT_EQ(https.dst_ports, (PortRange{443, 443}));
  EXPECT_TRUE(https.src_ports.IsAny());

  // As in pf, a port right after "from" is the source port.
  Rule dns = *ParseRule("deny ingress udp from 0.0.0.0/0 port 53-60");
  EXPECT_EQ(dns.src_ports, (PortRange{53, 60}));
  EXPECT_TRUE(dns.dst_ports.IsAny());

  Rule metadata = *ParseRule("reject egress any to 169.254.169.254");
  EXPECT_EQ(metadata.action, Action::kReject);
  EXPECT_FALSE(metadata.proto.has_value());
  EXPECT_EQ(metadata.dst, Cidr::Host(0xA9FEA9FE));

  Rule both = *ParseRule("allow egress udp from 10.0.0.2 port 5000 to any port 6000-6010");
  EXPECT_EQ(both.src, Cidr::Host(0x0A000002));
  EXPECT_EQ(both.src_ports, (PortRange{5000, 5000}));
  EXPECT_EQ(both.dst_ports, (PortRange{6000, 6010}));

  Rule ssh = *ParseRule("  allow\tingress tcp port 22   # sshd");
  EXPECT_EQ(ssh.dst_ports, (PortRange{22, 22}));
}

TEST(NetFirewallRule, RoundTripsThroughToString) {
  for (std::string_view text : {
           "allow egress tcp to 10.0.0.0/8 port 443",
           "deny ingress udp from any port 53-60",
           "reject egress any to 169.254.169.254",
           "allow ingress icmp from 192.168.0.0/16",
           "allow egress udp from 10.0.0.2 port 0-100 to 1.1.1.1 port 53",
           "deny egress any",
       }) {
    Rule rule = *ParseRule(text);
    EXPECT_EQ(rule.ToString(), text);
    EXPECT_EQ(*ParseRule(rule.ToString()), rule);
  }
  EXPECT_EQ(ParseRule("allow egress tcp from 0.0.0.0/0 to 0.0.0.0/0 port 0-65535")->ToString(),
            "allow egress tcp");
}

TEST(NetFirewallRule, ExactErrors) {
  EXPECT_EQ(ErrorOf(""), "empty rule");
  EXPECT_EQ(ErrorOf("   # only a comment"), "empty rule");
  EXPECT_EQ(ErrorOf("alow egress tcp"), "unknown action \"alow\" (want allow, deny or reject)");
  EXPECT_EQ(ErrorOf("allow"), "missing direction after \"allow\"");
  EXPECT_EQ(ErrorOf("allow out tcp"), "unknown direction \"out\" (want egress or ingress)");
  EXPECT_EQ(ErrorOf("allow egress"), "missing protocol after \"egress\"");
  EXPECT_EQ(ErrorOf("allow egress sctp"), "unknown protocol \"sctp\" (want any, tcp, udp or icmp)");
  EXPECT_EQ(ErrorOf("allow egress TCP"), "unknown protocol \"TCP\" (want any, tcp, udp or icmp)");
  EXPECT_EQ(ErrorOf("allow egress tcp to"), "missing address after \"to\"");
  EXPECT_EQ(ErrorOf("allow egress tcp to 1.2.3.4/33"),
            "bad CIDR \"1.2.3.4/33\": prefix length 33 is over 32");
  EXPECT_EQ(ErrorOf("allow egress tcp port"), "missing port after \"port\"");
  EXPECT_EQ(ErrorOf("allow egress tcp port 60-53"), "bad port range \"60-53\": start is above end");
  EXPECT_EQ(ErrorOf("allow egress tcp port 70000"),
            "bad port range \"70000\": port 70000 is over 65535");
  EXPECT_EQ(ErrorOf("allow egress tcp port 080"),
            "bad port range \"080\": port \"080\" has a leading zero");
  EXPECT_EQ(ErrorOf("allow egress tcp port ssh"),
            "bad port range \"ssh\": port \"ssh\" is not a decimal number");
  EXPECT_EQ(ErrorOf("allow egress tcp port 1-"),
            "bad port range \"1-\": port \"\" is not a decimal number");
  EXPECT_EQ(ErrorOf("allow egress any port 53"), "ports need tcp or udp, not any");
  EXPECT_EQ(ErrorOf("allow egress icmp from any port 1"), "ports need tcp or udp, not icmp");
  EXPECT_EQ(ErrorOf("allow egress tcp to any from any"),
            "\"from\" is repeated or out of order (want: from ADDR [port P] to ADDR [port P])");
  EXPECT_EQ(ErrorOf("allow egress tcp to any to any"),
            "\"to\" is repeated or out of order (want: from ADDR [port P] to ADDR [port P])");
  EXPECT_EQ(ErrorOf("allow egress tcp port 1 port 2"),
            "\"port\" is repeated or out of order (want: from ADDR [port P] to ADDR [port P])");
  EXPECT_EQ(ErrorOf("allow egress tcp to any please"), "unexpected \"please\" after \"any\"");
  EXPECT_EQ(ErrorOf("default deny egress"),
            "\"default\" sets a policy, it is not a rule (only valid in a rule list)");
}

TEST(NetFirewallRule, ParsesLists) {
  RuleSet set = *ParseRules(
      "# fleet policy\n"
      "default deny egress\r\n"
      "\n"
      "allow egress udp to 10.0.2.3 port 53\n"
      "allow egress tcp port 443  # https\n"
      "default reject ingress");
  ASSERT_EQ(set.rules.size(), 2u);
  EXPECT_EQ(set.default_egress, Action::kDeny);
  EXPECT_EQ(set.default_ingress, Action::kReject);
  EXPECT_EQ(set.rules[1].ToString(), "allow egress tcp port 443");

  RuleSet empty = *ParseRules("");
  EXPECT_TRUE(empty.rules.empty());
  EXPECT_EQ(empty.DefaultFor(Direction::kEgress), Action::kAllow);
  EXPECT_EQ(empty.DefaultFor(Direction::kIngress), Action::kDeny);
}

TEST(NetFirewallRule, ListErrorsNameTheLine) {
  EXPECT_EQ(ListErrorOf("allow egress tcp\n\nallow egres tcp\n"),
            "line 3: unknown direction \"egres\" (want egress or ingress)");
  EXPECT_EQ(ListErrorOf("default deny"),
            "line 1: want \"default ACTION DIRECTION\", e.g. default deny egress");
  EXPECT_EQ(ListErrorOf("default deny egress\ndefault allow egress"),
            "line 2: default for egress given twice");
  EXPECT_EQ(ListErrorOf("default permit egress"),
            "line 1: unknown action \"permit\" (want allow, deny or reject)");
  std::string many;
  for (size_t i = 0; i <= kMaxRules; ++i) many += "deny egress any\n";
  EXPECT_EQ(ListErrorOf(many), "line 4097: over 4096 rules");
}

}  // namespace
}  // namespace vk::net
