#include "agent/net_config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent/system_setup.h"
#include "base/strings.h"
#include "base/unique_fd.h"
#include "proto/str_format.h"

namespace vk::agent {

using proto::StrFormat;
namespace {

// DESIGN.md §4: fleet names resolve as NAME.lan.
constexpr char kDefaultSearch[] = "lan";
// Up to 1 s: past that, DHCP's own retries take over.
constexpr int kCarrierWaitTries = 100;
constexpr useconds_t kCarrierWaitStep = 10 * 1000;
constexpr char kSyntax[] = "dhcp or static:IP/PREFIX,GATEWAY,DNS";

Result<UniqueFd> InetSocket() {
  UniqueFd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) return Error::FromErrno("socket for interface set-up");
  return sock;
}

ifreq Request(const std::string& interface) {
  ifreq request{};
  std::strncpy(request.ifr_name, interface.c_str(), IFNAMSIZ - 1);
  return request;
}

sockaddr InetAddress(uint32_t ip) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(ip);
  sockaddr out{};
  std::memcpy(&out, &in, sizeof(in));
  return out;
}

Result<void> Control(int sock, unsigned long op, void* argument, const std::string& what) {
  if (ioctl(sock, op, argument) < 0) return Error::FromErrno(what);
  return Ok();
}

Result<void> BringLinkUp(int sock, const std::string& interface) {
  ifreq request = Request(interface);
  VK_TRY(Control(sock, SIOCGIFFLAGS, &request,
                 StrFormat("find interface {} (VM started without a network?)", interface)));
  request.ifr_flags |= IFF_UP;
  return Control(sock, SIOCSIFFLAGS, &request, StrFormat("bring up {}", interface));
}

// A link just brought up drops what it is asked to send until the kernel
// has seen its carrier (linkwatch activates the queue), so the first
// DISCOVER would be lost and cost a whole retry interval.
void WaitForCarrier(int sock, const std::string& interface) {
  for (int i = 0; i < kCarrierWaitTries; ++i) {
    ifreq request = Request(interface);
    if (ioctl(sock, SIOCGIFFLAGS, &request) == 0 && (request.ifr_flags & IFF_RUNNING) != 0) return;
    usleep(kCarrierWaitStep);
  }
}

Result<void> SetAddress(int sock, const std::string& interface, const DhcpLease& lease) {
  ifreq request = Request(interface);
  request.ifr_addr = InetAddress(lease.ip);
  VK_TRY(Control(sock, SIOCSIFADDR, &request, StrFormat("set address {}", FormatIpv4(lease.ip))));
  // The kernel re-creates the subnet route for the new netmask itself.
  request = Request(interface);
  request.ifr_netmask = InetAddress(PrefixToMask(lease.prefix_len));
  VK_TRY(Control(sock, SIOCSIFNETMASK, &request, StrFormat("set prefix /{}", lease.prefix_len)));
  if (lease.mtu == 0) return Ok();
  request = Request(interface);
  request.ifr_mtu = lease.mtu;
  return Control(sock, SIOCSIFMTU, &request, StrFormat("set MTU {}", lease.mtu));
}

Result<void> AddDefaultRoute(int sock, const std::string& interface, uint32_t gateway) {
  rtentry route{};
  route.rt_dst = InetAddress(0);
  route.rt_genmask = InetAddress(0);
  route.rt_gateway = InetAddress(gateway);
  route.rt_flags = RTF_UP | RTF_GATEWAY;
  std::string device = interface;  // rt_dev is not const
  route.rt_dev = device.data();
  if (ioctl(sock, SIOCADDRT, &route) < 0 && errno != EEXIST)
    return Error::FromErrno(StrFormat("add default route via {}", FormatIpv4(gateway)));
  return Ok();
}

// A route via a router the new lease no longer names would stay the
// default; ESRCH: it is gone already (an address change flushes routes).
Result<void> DeleteDefaultRoute(int sock, const std::string& interface, uint32_t gateway) {
  rtentry route{};
  route.rt_dst = InetAddress(0);
  route.rt_genmask = InetAddress(0);
  route.rt_gateway = InetAddress(gateway);
  route.rt_flags = RTF_UP | RTF_GATEWAY;
  std::string device = interface;
  route.rt_dev = device.data();
  if (ioctl(sock, SIOCDELRT, &route) < 0 && errno != ESRCH)
    return Error::FromErrno(StrFormat("remove default route via {}", FormatIpv4(gateway)));
  return Ok();
}

Result<void> ConfigureStatic(const NetConfigRequest& request) {
  const DhcpLease lease = LeaseFromStatic(*request.static_ipv4);
  VK_TRY(ApplyLease(request.interface, lease));
  return WriteResolvConf(request.resolv_conf, ResolvConfText(lease));
}

// Obtains and applies a lease, then hands the socket and the client's
// identity to the renewal thread.
Result<std::unique_ptr<DhcpRenewalThread>> ConfigureDhcp(const NetConfigRequest& request) {
  DhcpClientOptions options;
  options.mac = VK_TRY(InterfaceMac(request.interface));
  options.hostname = request.hostname;
  options.xid = RandomXid(options.mac);
  options.total_timeout = request.dhcp_timeout;
  auto transport = VK_TRY(OpenPacketTransport(request.interface));
  const DhcpTime granted_at = options.now();
  const DhcpLease lease = VK_TRY(RunDhcpClient(*transport, options).Context("DHCP"));
  VK_TRY(ApplyLeaseChange(request, DhcpLease{}, lease));
  if (!LeaseTimes(lease)) return std::unique_ptr<DhcpRenewalThread>();
  options.xid += static_cast<uint32_t>(options.max_restarts) + 1;  // past the ids used
  DhcpRenewalOptions renewal{options, nullptr, nullptr, ConsoleLine};
  renewal.apply = [request](const DhcpLease& previous, const DhcpLease& current) {
    return ApplyLeaseChange(request, previous, current);
  };
  return std::make_unique<DhcpRenewalThread>(std::move(transport), std::move(renewal), lease,
                                             granted_at);
}

Result<StaticIpv4> ParseStatic(std::string_view value) {
  const std::vector<std::string> parts = Split(value, ',');
  if (parts.size() != 3) return Error("expected IP/PREFIX,GATEWAY,DNS");
  const std::vector<std::string> address = Split(parts[0], '/');
  auto ip = address.size() == 2 ? ParseIpv4(address[0]) : std::nullopt;
  auto prefix = address.size() == 2 ? ParseUint(address[1]) : std::nullopt;
  if (!ip || !prefix || *prefix < 1 || *prefix > 32)
    return Error(StrFormat("{} is not IP/PREFIX (prefix 1 to 32)", parts[0]));
  auto gateway = ParseIpv4(parts[1]);
  if (!gateway) return Error(StrFormat("gateway {} is not an IPv4 address", parts[1]));
  auto dns = ParseIpv4(parts[2]);
  if (!dns) return Error(StrFormat("DNS server {} is not an IPv4 address", parts[2]));
  StaticIpv4 config{*ip, static_cast<uint8_t>(*prefix), *gateway, *dns};
  // The default route needs a gateway the interface can reach directly.
  const uint32_t mask = PrefixToMask(config.prefix_len);
  if ((config.gateway & mask) != (config.ip & mask) || config.gateway == config.ip)
    return Error(StrFormat("gateway {} is not another host of {}", parts[1], parts[0]));
  return config;
}

}  // namespace

Result<NetConfigRequest> ParseNetParam(std::string_view value) {
  NetConfigRequest request;
  if (value == "dhcp") return request;
  if (!StartsWith(value, "static:")) return Error(StrFormat("vk.net={} is not {}", value, kSyntax));
  auto config = ParseStatic(value.substr(std::string_view("static:").size()));
  if (!config.ok()) return std::move(config).error().WithContext(StrFormat("vk.net={}", value));
  request.static_ipv4 = *config;
  return request;
}

DhcpLease LeaseFromStatic(const StaticIpv4& config) {
  DhcpLease lease;
  lease.ip = config.ip;
  lease.prefix_len = config.prefix_len;
  lease.router = config.gateway;
  if (config.dns != 0) lease.dns_servers.push_back(config.dns);
  return lease;
}

Result<void> ApplyLease(const std::string& interface, const DhcpLease& lease) {
  UniqueFd sock = VK_TRY(InetSocket());
  VK_TRY(SetAddress(sock.get(), interface, lease));
  if (lease.router != 0) VK_TRY(AddDefaultRoute(sock.get(), interface, lease.router));
  return Ok();
}

Result<void> ApplyLeaseChange(const NetConfigRequest& request, const DhcpLease& previous,
                              const DhcpLease& current) {
  const bool link_changed = current.ip != previous.ip ||
                            current.prefix_len != previous.prefix_len ||
                            current.mtu != previous.mtu || current.router != previous.router;
  if (link_changed) {
    if (previous.router != 0 && previous.router != current.router) {
      UniqueFd sock = VK_TRY(InetSocket());
      VK_TRY(DeleteDefaultRoute(sock.get(), request.interface, previous.router));
    }
    // Setting another address flushes the interface's routes: ApplyLease
    // adds the default route back.
    VK_TRY(ApplyLease(request.interface, current));
  }
  // Rewritten only when it changes: the workload may have edited it since.
  const std::string resolv = ResolvConfText(current);
  if (resolv != ResolvConfText(previous) || previous.ip == 0)
    VK_TRY(WriteResolvConf(request.resolv_conf, resolv));
  return Ok();
}

std::string ResolvConfText(const DhcpLease& lease) {
  std::string text;
  for (uint32_t server : lease.dns_servers) text += "nameserver " + FormatIpv4(server) + "\n";
  // The lease's domain passed IsValidDnsName: no newline can inject a line.
  text += "search " + (lease.domain.empty() ? std::string(kDefaultSearch) : lease.domain) + "\n";
  return text;
}

Result<void> WriteResolvConf(const std::string& path, const std::string& text) {
  if (const size_t slash = path.rfind('/'); slash != std::string::npos && slash > 0)
    VK_TRY(MakeDirectories(path.substr(0, slash)));
  // Images often ship resolv.conf as a symlink (to systemd-resolved's file):
  // replace the link itself rather than write wherever it points.
  if (unlink(path.c_str()) < 0 && errno != ENOENT)
    return Error::FromErrno(StrFormat("remove {}", path));
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd || write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    return Error::FromErrno(StrFormat("write {}", path));
  return Ok();
}

Result<std::unique_ptr<DhcpRenewalThread>> ConfigureNetwork(const NetConfigRequest& request) {
  const std::string context = StrFormat("network {}", request.interface);
  UniqueFd sock = VK_TRY_CTX(InetSocket(), context);
  VK_TRY_CTX(BringLinkUp(sock.get(), request.interface), context);
  WaitForCarrier(sock.get(), request.interface);
  if (request.static_ipv4) {
    VK_TRY_CTX(ConfigureStatic(request), context);
    return std::unique_ptr<DhcpRenewalThread>();
  }
  return ConfigureDhcp(request).Context(context);
}

}  // namespace vk::agent
