#include "fleet/port_mapping.h"

#include <gtest/gtest.h>

namespace vk::fleet {
namespace {

TEST(FleetPortTest, ShortSyntax) {
  struct Case {
    const char* text;
    PortMapping want;
  } cases[] = {
      {"3000", {3000, 3000, 0, 0, "", "tcp"}},
      {"3000-3005", {3000, 3005, 0, 0, "", "tcp"}},
      {"8080:80", {80, 80, 8080, 8080, "", "tcp"}},
      {"9090-9091:8080-8081", {8080, 8081, 9090, 9091, "", "tcp"}},
      {"127.0.0.1:8001:8001", {8001, 8001, 8001, 8001, "127.0.0.1", "tcp"}},
      {"127.0.0.1:5000-5010:5000-5010", {5000, 5010, 5000, 5010, "127.0.0.1", "tcp"}},
      {"127.0.0.1::5000", {5000, 5000, 0, 0, "127.0.0.1", "tcp"}},
      {"[::1]:6001:6001", {6001, 6001, 6001, 6001, "::1", "tcp"}},
      {"6060:6060/udp", {6060, 6060, 6060, 6060, "", "udp"}},
      {"127.0.0.1:53:53/udp", {53, 53, 53, 53, "127.0.0.1", "udp"}},
      {"65535:1", {1, 1, 65535, 65535, "", "tcp"}},
  };
  for (const Case& c : cases) {
    auto port = ParsePortMapping(c.text);
    ASSERT_TRUE(port.ok()) << c.text << ": " << port.error().message();
    EXPECT_EQ(*port, c.want) << c.text;
    auto again = ParsePortMapping(PortMappingText(*port));
    ASSERT_TRUE(again.ok()) << PortMappingText(*port);
    EXPECT_EQ(*again, *port) << PortMappingText(*port);
  }
}

TEST(FleetPortTest, RefusesBadPorts) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"0", "ports are 1-65535"},
      {"70000", "ports are 1-65535"},
      {"8080:65536", "ports are 1-65535"},
      {"http", "invalid target port"},
      {"8080-8081:80", "ranges of different lengths"},
      {"81-80", "invalid target port range"},
      {"80/sctp", "the fleet LAN forwards tcp and udp"},
      {"1.2.3:80:80", "invalid host IP"},
      {"", "invalid target port"},
      {"[::1]80", "invalid port"},
  };
  for (const Case& c : cases) {
    auto port = ParsePortMapping(c.text);
    ASSERT_FALSE(port.ok()) << c.text;
    EXPECT_NE(port.error().message().find(c.message), std::string::npos)
        << c.text << ": " << port.error().message();
  }
}

}  // namespace
}  // namespace vk::fleet
