#include "lib/firewall_text.h"

#include <gtest/gtest.h>

namespace virtkit::internal {
namespace {

TEST(FirewallTextTest, RulesAndDefaults) {
  Network network;
  network.firewall = {
      {.action = FirewallAction::kDeny,
       .protocol = Protocol::kTcp,
       .address = "10.0.0.0/8",
       .port_first = 443,
       .port_last = 443},
      {.action = FirewallAction::kAllow,
       .direction = FirewallDirection::kIngress,
       .protocol = Protocol::kTcp,
       .port_first = 22,
       .port_last = 22},
      {.action = FirewallAction::kReject, .address = "169.254.169.254"},
      {.action = FirewallAction::kAllow,
       .protocol = Protocol::kUdp,
       .port_first = 53,
       .port_last = 60},
  };
  network.egress_default = FirewallAction::kDeny;
  auto text = FirewallText(network);
  ASSERT_TRUE(text) << text.error().message();
  EXPECT_EQ(*text,
            "deny egress tcp to 10.0.0.0/8 port 443\n"
            "allow ingress tcp from any to any port 22\n"
            "reject egress any to 169.254.169.254\n"
            "allow egress udp to any port 53-60\n"
            "default deny egress\n"
            "default deny ingress\n");
}

TEST(FirewallTextTest, ReversedPorts) {
  Network network;
  network.firewall = {{.protocol = Protocol::kTcp, .port_first = 90, .port_last = 80}};
  auto text = FirewallText(network);
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().kind(), ErrorKind::kUsage);
  EXPECT_NE(text.error().message().find("firewall rule 1: ports 90-80"), std::string::npos);
}

TEST(FirewallTextTest, Publish) {
  EXPECT_EQ(PublishText({.host_port = 8080, .guest_port = 80}), "127.0.0.1:8080:80");
  EXPECT_EQ(PublishText({.host_port = 53,
                         .guest_port = 5353,
                         .protocol = Protocol::kUdp,
                         .host_address = "0.0.0.0"}),
            "0.0.0.0:53:5353/udp");
}

}  // namespace
}  // namespace virtkit::internal
