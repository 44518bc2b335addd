// HostAddresses: which destinations a host socket would deliver to the host.
#include "net/host_addresses.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "net/ipv4.h"

namespace vk::net {
namespace {

TEST(NetHostAddresses, LoopbackAndThisNetworkAlwaysLandOnTheHost) {
  HostAddresses host;
  for (uint32_t ip : {Ipv4(127, 0, 0, 1), Ipv4(127, 255, 255, 255), Ipv4(127, 1, 2, 3),
                      Ipv4(0, 0, 0, 0), Ipv4(0, 255, 255, 255)}) {
    EXPECT_TRUE(host.LandsOnHost(ip)) << ip;
  }
  for (uint32_t ip : {Ipv4(1, 0, 0, 0), Ipv4(126, 255, 255, 255), Ipv4(128, 0, 0, 0),
                      Ipv4(192, 168, 127, 1), Ipv4(192, 0, 2, 2)}) {
    EXPECT_FALSE(host.LandsOnHost(ip)) << ip;
  }
}

TEST(NetHostAddresses, InterfaceAddressesLandOnTheHostUntilReplaced) {
  HostAddresses host;
  host.SetInterfaceAddresses({Ipv4(198, 51, 100, 7), Ipv4(192, 0, 2, 2), Ipv4(192, 0, 2, 2)});
  EXPECT_EQ(host.interface_addresses().size(), 2u);
  EXPECT_TRUE(host.LandsOnHost(Ipv4(192, 0, 2, 2)));
  EXPECT_TRUE(host.LandsOnHost(Ipv4(198, 51, 100, 7)));
  EXPECT_FALSE(host.LandsOnHost(Ipv4(192, 0, 2, 3)));
  host.SetInterfaceAddresses({Ipv4(198, 51, 100, 8)});  // the host moved
  EXPECT_FALSE(host.LandsOnHost(Ipv4(192, 0, 2, 2)));
  EXPECT_TRUE(host.LandsOnHost(Ipv4(198, 51, 100, 8)));
}

TEST(NetHostAddresses, RefreshReadsTheInterfaces) {
  HostAddresses host;
  ASSERT_TRUE(host.Refresh().ok());
  // Every Linux host has lo; 127.0.0.1 must come from getifaddrs, not the
  // built-in 127/8 rule.
  const auto& ips = host.interface_addresses();
  EXPECT_NE(std::find(ips.begin(), ips.end(), Ipv4(127, 0, 0, 1)), ips.end());
}

TEST(NetHostAddresses, WatcherRegistersWithTheLoop) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  int changes = 0;
  auto watcher = HostAddressWatcher::Create(**loop, [&] { ++changes; });
  ASSERT_TRUE(watcher.ok()) << watcher.error().message();
  ASSERT_TRUE((*loop)->RunOnce(0).ok());
  EXPECT_EQ(changes, 0) << "no address changed";
}

}  // namespace
}  // namespace vk::net
