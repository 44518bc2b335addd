#include "net/host_addresses.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>

namespace vk::net {

Result<void> HostAddresses::Refresh() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return Error::FromErrno("getifaddrs");
  std::vector<uint32_t> ips;
  for (ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
    if (it->ifa_addr == nullptr || it->ifa_addr->sa_family != AF_INET) continue;
    ips.push_back(ntohl(reinterpret_cast<const sockaddr_in*>(it->ifa_addr)->sin_addr.s_addr));
  }
  ::freeifaddrs(list);
  SetInterfaceAddresses(std::move(ips));
  return Ok();
}

void HostAddresses::SetInterfaceAddresses(std::vector<uint32_t> ips) {
  std::sort(ips.begin(), ips.end());
  ips.erase(std::unique(ips.begin(), ips.end()), ips.end());
  interface_ = std::move(ips);
}

bool HostAddresses::LandsOnHost(uint32_t ip) const {
  return IsLoopbackOrThisHost(ip) || std::binary_search(interface_.begin(), interface_.end(), ip);
}

Result<std::unique_ptr<HostAddressWatcher>> HostAddressWatcher::Create(
    EventLoop& loop, std::function<void()> changed) {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd) return Error::FromErrno("netlink socket");
  sockaddr_nl address{};
  address.nl_family = AF_NETLINK;
  address.nl_groups = RTMGRP_IPV4_IFADDR;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return Error::FromErrno("netlink bind");
  }
  std::unique_ptr<HostAddressWatcher> watcher(
      new HostAddressWatcher(loop, std::move(fd), std::move(changed)));
  HostAddressWatcher* self = watcher.get();
  VK_TRY(loop.Add(self->fd_.get(), EPOLLIN, [self](uint32_t) { self->OnReadable(); }));
  return watcher;
}

HostAddressWatcher::~HostAddressWatcher() { loop_.Remove(fd_.get()); }

// Drains what is queued (ENOBUFS after an overflow also means "something
// changed") and re-reads once for the whole batch.
void HostAddressWatcher::OnReadable() {
  std::array<char, 8192> buffer;
  while (::recv(fd_.get(), buffer.data(), buffer.size(), 0) >= 0 || errno == ENOBUFS) {
  }
  changed_();
}

}  // namespace vk::net
