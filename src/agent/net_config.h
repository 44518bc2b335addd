// Guest networking for `vk run --net`: vk-agent configures the VM's one
// Ethernet interface from DHCP (the LAN's gateway serves it, DESIGN.md §4
// "Default LAN") or from a static address given on the kernel command line.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent/dhcp_client.h"
#include "agent/dhcp_renewal.h"
#include "base/result.h"

namespace vk::agent {

struct StaticIpv4 {
  uint32_t ip = 0;  // host byte order
  uint8_t prefix_len = 0;
  uint32_t gateway = 0;
  uint32_t dns = 0;
};

struct NetConfigRequest {
  std::string interface = "eth0";
  // Sent to the DHCP server (option 12) so the fleet resolves NAME.lan.
  std::string hostname;
  std::optional<StaticIpv4> static_ipv4;  // absent: DHCP
  std::string resolv_conf = "/etc/resolv.conf";
  // Total time DHCP may take before boot fails.
  std::chrono::milliseconds dhcp_timeout{std::chrono::seconds(15)};
};

// The value of vk.net=: "dhcp" or "static:IP/PREFIX,GATEWAY,DNS", e.g.
// static:192.168.127.5/24,192.168.127.1,192.168.127.1.
Result<NetConfigRequest> ParseNetParam(std::string_view value);

// Brings the interface up, obtains the address (DHCP or static), sets
// address, netmask and MTU, adds the default route and writes resolv.conf.
// A DHCP lease that expires is renewed by the returned thread for as long
// as it lives (keep it for the life of the guest); nullptr when nothing
// will need renewing (a static address, an infinite lease).
Result<std::unique_ptr<DhcpRenewalThread>> ConfigureNetwork(const NetConfigRequest& request);

// The pieces, exposed for tests.
DhcpLease LeaseFromStatic(const StaticIpv4& config);
Result<void> ApplyLease(const std::string& interface, const DhcpLease& lease);
// After a renewal or a new lease: changes only what differs from `previous`
// (usually nothing, a renewal moves only the timers).
Result<void> ApplyLeaseChange(const NetConfigRequest& request, const DhcpLease& previous,
                              const DhcpLease& current);
// "nameserver X" per server, then "search DOMAIN" (the lease's, or "lan").
std::string ResolvConfText(const DhcpLease& lease);
// Replaces `path`, never writing through a symlink an image put there.
Result<void> WriteResolvConf(const std::string& path, const std::string& text);

}  // namespace vk::agent
