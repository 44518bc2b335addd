#include "fleet/fleet_network.h"

#include <gtest/gtest.h>

#include "fleet/compose_file.h"
#include "net/cidr.h"

namespace vk::fleet {
namespace {

FleetSpec Parse(const std::string& text) {
  VariableLookup none = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  auto spec = ParseComposeText(text, "compose.yaml", "/project", none, {"*"});
  EXPECT_TRUE(spec.ok()) << (spec.ok() ? "" : spec.error().message());
  return spec.ok() ? *spec : FleetSpec{};
}

std::string Ip(uint32_t ip) { return net::FormatIpv4(ip); }

TEST(FleetNetworkTest, ServicesGetFixedAddressesInNameOrder) {
  FleetSpec spec = Parse(
      "services:\n  web: {image: x}\n  db: {image: x}\n  cache: {image: x, hostname: memo}\n");
  auto plan = PlanNetwork(spec);
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  EXPECT_EQ(Ip(plan->addresses.at("cache")), "192.168.127.10");
  EXPECT_EQ(Ip(plan->addresses.at("db")), "192.168.127.11");
  EXPECT_EQ(Ip(plan->addresses.at("web")), "192.168.127.12");
  EXPECT_EQ(Ip(plan->lan.gateway.ip), "192.168.127.1");
  // Static leases by guest host name; a differing host name keeps the
  // service's name answering too.
  std::vector<std::pair<std::string, uint32_t>> want = {{"memo", plan->addresses.at("cache")},
                                                        {"db", plan->addresses.at("db")},
                                                        {"web", plan->addresses.at("web")}};
  EXPECT_EQ(plan->lan.hosts, want);
  ASSERT_EQ(plan->aliases.size(), 1u);
  EXPECT_EQ(plan->aliases[0].first, "cache");
}

TEST(FleetNetworkTest, FixedHostsAreSkipped) {
  FleetSpec spec = Parse("services:\n  a: {image: x}\n");
  spec.hosts["gitlab"] = "192.168.127.10";
  auto plan = PlanNetwork(spec);
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  EXPECT_EQ(Ip(plan->addresses.at("a")), "192.168.127.11");
}

TEST(FleetNetworkTest, PublishedPortsForwardToTheServiceAddress) {
  FleetSpec spec = Parse(
      "services:\n  db:\n    image: x\n    ports: [\"6380:6379\", \"10.1.2.3:53:53/udp\", "
      "\"9000-9001:8000-8001\", \"7000\"]\n");
  auto plan = PlanNetwork(spec);
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  const auto& forwards = plan->lan.forwards;
  ASSERT_EQ(forwards.size(), 5u);
  for (const net::PortForward& f : forwards) EXPECT_EQ(f.guest_ip, plan->addresses.at("db"));
  EXPECT_EQ(forwards[0].host_port, 6380);
  EXPECT_EQ(forwards[0].guest_port, 6379);
  EXPECT_EQ(forwards[0].host_ip, 0u);  // 127.0.0.1
  EXPECT_TRUE(forwards[1].udp);
  EXPECT_EQ(Ip(forwards[1].host_ip), "10.1.2.3");
  EXPECT_EQ(forwards[3].host_port, 9001);
  EXPECT_EQ(forwards[3].guest_port, 8001);
  EXPECT_NE(forwards[4].host_port, 0);  // picked
  EXPECT_EQ(forwards[4].guest_port, 7000);
  const auto& shown = plan->published.at("db");
  EXPECT_EQ(shown[0], "127.0.0.1:6380->6379/tcp");
  EXPECT_EQ(shown[1], "10.1.2.3:53->53/udp");
}

TEST(FleetNetworkTest, Ipv6HostAddressIsRefused) {
  FleetSpec spec = Parse("services:\n  db:\n    image: x\n    ports: [\"[::1]:80:80\"]\n");
  auto plan = PlanNetwork(spec);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().message().find("IPv6"), std::string::npos) << plan.error().message();
}

}  // namespace
}  // namespace vk::fleet
