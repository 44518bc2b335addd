// HostAddresses: which IPv4 destinations a host socket would deliver to this
// very host. SlirpEgress turns a guest's packets into host sockets, so every
// such address is another name for the host's loopback services, which the
// guest may reach only as host.lan (the gateway address, that slirp maps to
// 127.0.0.1); see docs/networking.md "host.lan is your loopback".
//
//   - 127.0.0.0/8: loopback (RFC 1122 §3.2.1.3 (g)); libslirp passes it
//     straight to the host.
//   - 0.0.0.0/8: "this host on this network" (RFC 1122 §3.2.1.3 (a), (b));
//     Linux connects a socket aimed at 0.0.0.0 to 127.0.0.1.
//   - the host's own interface addresses (getifaddrs(3)): the kernel
//     delivers them locally, reaching services bound to them or to 0.0.0.0.
//
// Interface addresses change (DHCP, VPNs, Wi-Fi roaming), so they are
// re-read on Refresh; HostAddressWatcher says when.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "base/event_loop.h"
#include "base/result.h"
#include "base/unique_fd.h"

namespace vk::net {

class HostAddresses {
 public:
  // 127/8 or 0/8: local whatever the interfaces are.
  static bool IsLoopbackOrThisHost(uint32_t ip) { return (ip >> 24) == 127 || (ip >> 24) == 0; }

  // Reads the host's interface addresses; on failure keeps the ones it had.
  Result<void> Refresh();
  // For tests: these instead of the interfaces' addresses.
  void SetInterfaceAddresses(std::vector<uint32_t> ips);

  bool LandsOnHost(uint32_t ip) const;
  const std::vector<uint32_t>& interface_addresses() const { return interface_; }

 private:
  std::vector<uint32_t> interface_;  // host byte order, sorted
};

// Calls `changed` on `loop`'s thread after the host's IPv4 addresses change:
// a NETLINK_ROUTE socket joined to RTMGRP_IPV4_IFADDR (rtnetlink(7)). The
// messages are only a cue to re-read, so their content is not trusted.
class HostAddressWatcher {
 public:
  // `loop` must outlive the watcher; call Create and the destructor on its
  // thread (or while it is not running).
  static Result<std::unique_ptr<HostAddressWatcher>> Create(EventLoop& loop,
                                                            std::function<void()> changed);
  ~HostAddressWatcher();
  HostAddressWatcher(const HostAddressWatcher&) = delete;
  HostAddressWatcher& operator=(const HostAddressWatcher&) = delete;

 private:
  HostAddressWatcher(EventLoop& loop, UniqueFd fd, std::function<void()> changed)
      : loop_(loop), fd_(std::move(fd)), changed_(std::move(changed)) {}
  void OnReadable();

  EventLoop& loop_;
  UniqueFd fd_;
  std::function<void()> changed_;
};

}  // namespace vk::net
