// vk.net= parsing, resolv.conf, and (as root) ConfigureNetwork for real on a
// veth pair inside a private network namespace, with a tiny DHCP server on
// the peer end.
#include "agent/net_config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "base/unique_fd.h"

namespace vk::agent {
namespace {

using std::chrono::milliseconds;

TEST(AgentNetConfig, ParsesDhcpAndStatic) {
  auto dhcp = ParseNetParam("dhcp");
  ASSERT_TRUE(dhcp.ok());
  EXPECT_EQ(dhcp->interface, "eth0");
  EXPECT_FALSE(dhcp->static_ipv4.has_value());
  auto fixed = ParseNetParam("static:192.168.127.5/24,192.168.127.1,1.1.1.1");
  ASSERT_TRUE(fixed.ok()) << fixed.error().message();
  ASSERT_TRUE(fixed->static_ipv4.has_value());
  EXPECT_EQ(fixed->static_ipv4->ip, 0xc0a87f05u);
  EXPECT_EQ(fixed->static_ipv4->prefix_len, 24);
  EXPECT_EQ(fixed->static_ipv4->gateway, 0xc0a87f01u);
  EXPECT_EQ(fixed->static_ipv4->dns, 0x01010101u);
}

TEST(AgentNetConfig, RejectsMalformedValues) {
  for (const char* bad :
       {"", "DHCP", "none", "static:", "static:10.0.0.2,10.0.0.1,10.0.0.1",
        "static:10.0.0.2/0,10.0.0.1,10.0.0.1", "static:10.0.0.2/33,10.0.0.1,1.1.1.1",
        "static:10.0.0.2/24,10.0.1.1,1.1.1.1", "static:10.0.0.2/24,10.0.0.2,1.1.1.1",
        "static:10.0.0.2/32,10.0.0.1,1.1.1.1", "static:10.0.0.2/24,10.0.0.1",
        "static:10.0.0.2/24,10.0.0.1,1.1.1.1,2.2.2.2", "static:10.0.0.256/24,10.0.0.1,1.1.1.1",
        "static:10.0.0.2/x,10.0.0.1,1.1.1.1", "static:10.0.0.2/24,10.0.0.1,dns"}) {
    auto parsed = ParseNetParam(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) {
      EXPECT_NE(parsed.error().message().find("vk.net="), std::string::npos);
    }
  }
}

TEST(AgentNetConfig, ResolvConfText) {
  DhcpLease lease = LeaseFromStatic({0x0a000002, 24, 0x0a000001, 0x0a000035});
  EXPECT_EQ(ResolvConfText(lease), "nameserver 10.0.0.53\nsearch lan\n");
  lease.dns_servers.push_back(0x01010101);
  lease.domain = "corp.example";
  EXPECT_EQ(ResolvConfText(lease),
            "nameserver 10.0.0.53\nnameserver 1.1.1.1\nsearch corp.example\n");
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string MakeTempDir() {
  char dir[] = "/tmp/vk-net-config-XXXXXX";
  return mkdtemp(dir) ? dir : "";
}

TEST(AgentNetConfig, ResolvConfNeverWritesThroughSymlink) {
  const std::string dir = MakeTempDir();
  ASSERT_FALSE(dir.empty());
  const std::string victim = dir + "/victim", path = dir + "/etc/resolv.conf";
  std::ofstream(victim) << "precious\n";
  ASSERT_EQ(mkdir((dir + "/etc").c_str(), 0755), 0);
  ASSERT_EQ(symlink(victim.c_str(), path.c_str()), 0);
  ASSERT_TRUE(WriteResolvConf(path, "nameserver 10.0.0.1\n").ok());
  EXPECT_EQ(ReadFile(victim), "precious\n");
  EXPECT_EQ(ReadFile(path), "nameserver 10.0.0.1\n");
  struct stat st {};
  ASSERT_EQ(lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  std::system(("rm -rf " + dir).c_str());
}

// Runs `body` in a forked child with its own network namespace holding the
// veth pair vk0 <-> vk1; "" means success, anything else is the failure.
// Returns the reason to skip, if the machine cannot do this.
std::optional<std::string> RunInNetns(const std::function<std::string()>& body,
                                      std::string& failure) {
  if (geteuid() != 0) return "needs root for a network namespace";
  int fds[2];
  if (pipe(fds) < 0) return "pipe failed";
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string message;
    int code = 1;
    if (unshare(CLONE_NEWNET) < 0) {
      message = "unshare(CLONE_NEWNET) refused", code = 77;
    } else if (std::system("ip link add name vk0 type veth peer name vk1 >/dev/null 2>&1") != 0) {
      message = "cannot create a veth pair (no `ip` or no veth driver)", code = 77;
    } else {
      message = body();
      code = message.empty() ? 0 : 1;
    }
    (void)!write(fds[1], message.data(), message.size());
    _exit(code);
  }
  close(fds[1]);
  char buffer[4096];
  ssize_t got;
  while ((got = read(fds[0], buffer, sizeof(buffer))) > 0) failure.append(buffer, got);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 77) return failure;
  if (!WIFEXITED(status)) failure += " (child crashed)";
  return std::nullopt;
}

bool LinkUp(const char* name) {
  UniqueFd sock(socket(AF_INET, SOCK_DGRAM, 0));
  ifreq request{};
  std::strncpy(request.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(sock.get(), SIOCGIFFLAGS, &request) < 0) return false;
  request.ifr_flags |= IFF_UP;
  return ioctl(sock.get(), SIOCSIFFLAGS, &request) == 0;
}

uint32_t InterfaceValue(const char* name, unsigned long op) {
  UniqueFd sock(socket(AF_INET, SOCK_DGRAM, 0));
  ifreq request{};
  std::strncpy(request.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(sock.get(), op, &request) < 0) return 0;
  if (op == SIOCGIFMTU) return static_cast<uint32_t>(request.ifr_mtu);
  sockaddr_in in{};
  std::memcpy(&in, &request.ifr_addr, sizeof(in));
  return ntohl(in.sin_addr.s_addr);
}

// What the namespace shows after ConfigureNetwork; "" when all is as asked.
std::string CheckConfigured(uint32_t ip, uint32_t gateway, uint32_t mtu, const std::string& resolv,
                            const std::string& expected_resolv) {
  if (InterfaceValue("vk0", SIOCGIFADDR) != ip) return "wrong address";
  if (InterfaceValue("vk0", SIOCGIFNETMASK) != 0xffffff00u) return "wrong netmask";
  if (InterfaceValue("vk0", SIOCGIFMTU) != mtu) return "wrong MTU";
  // /proc/net/route: "Iface Destination Gateway ..." in hex, network order.
  char route[64];
  std::snprintf(route, sizeof(route), "vk0\t00000000\t%08X", htonl(gateway));
  if (ReadFile("/proc/net/route").find(route) == std::string::npos)
    return "no default route in /proc/net/route:\n" + ReadFile("/proc/net/route");
  if (ReadFile(resolv) != expected_resolv) return "resolv.conf is:\n" + ReadFile(resolv);
  return "";
}

TEST(AgentNetConfig, StaticAddressOnVeth) {
  const std::string dir = MakeTempDir();
  std::string failure;
  auto skip = RunInNetns(
      [&]() -> std::string {
        if (!LinkUp("vk1")) return "bring up vk1";
        auto request = ParseNetParam("static:10.9.0.2/24,10.9.0.1,10.9.0.53");
        request->interface = "vk0";
        request->resolv_conf = dir + "/resolv.conf";
        if (auto done = ConfigureNetwork(*request); !done.ok()) return done.error().message();
        return CheckConfigured(0x0a090002, 0x0a090001, 1500, request->resolv_conf,
                               "nameserver 10.9.0.53\nsearch lan\n");
      },
      failure);
  std::system(("rm -rf " + dir).c_str());
  if (skip) GTEST_SKIP() << *skip;
  EXPECT_EQ(failure, "");
}

std::optional<std::vector<uint8_t>> RequestOption(const std::vector<uint8_t>& m, uint8_t code) {
  for (size_t at = 240; at + 1 < m.size() && m[at] != 255; at += m[at] == 0 ? 1 : 2 + m[at + 1]) {
    if (m[at] == code && at + 2 + m[at + 1] <= m.size())
      return std::vector<uint8_t>(m.begin() + at + 2, m.begin() + at + 2 + m[at + 1]);
  }
  return std::nullopt;
}

// An OFFER or ACK for `request`: 10.9.0.2/24 via 10.9.0.1, MTU 1400.
std::vector<uint8_t> ServerReply(const std::vector<uint8_t>& request, uint8_t type) {
  const std::vector<uint8_t> options = {53,  1,   type, 54, 4, 10, 9,  0,    1,    1,  4,
                                        255, 255, 255,  0,  3, 4,  10, 9,    0,    1,  6,
                                        4,   10,  9,    0,  1, 26, 2,  0x05, 0x78, 255};
  std::vector<uint8_t> m(240 + options.size());
  std::copy(request.begin(), request.begin() + 240, m.begin());
  std::copy(options.begin(), options.end(), m.begin() + 240);
  m[0] = 2;  // BOOTREPLY; xid, chaddr and cookie stay the client's
  const uint8_t yiaddr[] = {10, 9, 0, 2};
  std::memcpy(&m[16], yiaddr, 4);
  return m;
}

// An AF_PACKET datagram socket for IPv4 bound to interface `ifindex`;
// invalid if it cannot be opened or bound.
UniqueFd BoundPacketSocket(int ifindex) {
  UniqueFd fd(socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP)));
  sockaddr_ll at{};
  at.sll_family = AF_PACKET;
  at.sll_protocol = htons(ETH_P_IP);
  at.sll_ifindex = ifindex;
  if (fd && bind(fd.get(), reinterpret_cast<sockaddr*>(&at), sizeof(at)) < 0) return UniqueFd();
  return fd;
}

// Broadcasts an IPv4 packet out of interface `ifindex`.
void SendRaw(int fd, int ifindex, const std::vector<uint8_t>& packet) {
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ETH_P_IP);
  to.sll_ifindex = ifindex;
  to.sll_halen = ETH_ALEN;
  std::memset(to.sll_addr, 0xff, ETH_ALEN);
  sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
}

// Serves one DISCOVER/REQUEST exchange on vk1; returns the client's hostname.
std::string ServeDhcp(int fd, int ifindex) {
  std::string hostname;
  for (int packets = 0; packets < 50; ++packets) {
    pollfd ready{fd, POLLIN, 0};
    if (poll(&ready, 1, 10000) <= 0) break;
    std::vector<uint8_t> buffer(4096);
    const ssize_t got = recv(fd, buffer.data(), buffer.size(), 0);
    auto datagram = ParseIpv4Udp(std::span(buffer.data(), got > 0 ? got : 0), UdpChecksum::kSkip);
    if (!datagram || datagram->dst_port != 67 || datagram->payload.size() < 240) continue;
    auto type = RequestOption(datagram->payload, 53);
    if (auto name = RequestOption(datagram->payload, 12))
      hostname.assign(name->begin(), name->end());
    const uint8_t reply_type = type && type->at(0) == 1 ? 2 : 5;
    auto packet =
        BuildIpv4Udp({0x0a090001, 0xffffffffu, 67, 68, ServerReply(datagram->payload, reply_type)});
    SendRaw(fd, ifindex, packet);
    if (reply_type == 5) break;
  }
  return hostname;
}

std::string DhcpOverVeth(const std::string& resolv) {
  if (!LinkUp("vk1")) return "bring up vk1";
  const int ifindex = static_cast<int>(if_nametoindex("vk1"));
  UniqueFd fd = BoundPacketSocket(ifindex);
  if (!fd) return "server socket";
  std::string hostname;
  std::thread server([&] { hostname = ServeDhcp(fd.get(), ifindex); });
  auto request = ParseNetParam("dhcp");
  request->interface = "vk0";
  request->hostname = "web1";
  request->resolv_conf = resolv;
  auto done = ConfigureNetwork(*request);
  server.join();
  if (!done.ok()) return done.error().message();
  if (hostname != "web1") return "server saw hostname '" + hostname + "'";
  return CheckConfigured(0x0a090002, 0x0a090001, 1400, resolv, "nameserver 10.9.0.1\nsearch lan\n");
}

TEST(AgentNetConfig, DhcpOverVethAgainstATinyServer) {
  const std::string dir = MakeTempDir();
  std::string failure;
  auto skip = RunInNetns([&] { return DhcpOverVeth(dir + "/resolv.conf"); }, failure);
  std::system(("rm -rf " + dir).c_str());
  if (skip) GTEST_SKIP() << *skip;
  EXPECT_EQ(failure, "");
}

bool HasDefaultRoute(uint32_t gateway) {
  char route[64];
  std::snprintf(route, sizeof(route), "vk0\t00000000\t%08X", htonl(gateway));
  return ReadFile("/proc/net/route").find(route) != std::string::npos;
}

// What a renewal's ApplyLeaseChange does to the interface, step by step.
std::string LeaseChanges(const std::string& resolv) {
  if (!LinkUp("vk1") || !LinkUp("vk0")) return "bring up the veth pair";
  auto request = ParseNetParam("dhcp");
  request->interface = "vk0";
  request->resolv_conf = resolv;
  const DhcpLease first = LeaseFromStatic({0x0a090002, 24, 0x0a090001, 0x0a090001});
  if (auto done = ApplyLeaseChange(*request, DhcpLease{}, first); !done.ok())
    return done.error().message();
  std::string wrong =
      CheckConfigured(0x0a090002, 0x0a090001, 1500, resolv, "nameserver 10.9.0.1\nsearch lan\n");
  if (!wrong.empty()) return "first lease: " + wrong;
  // A routine renewal touches nothing, not even a resolv.conf edited since.
  std::ofstream(resolv) << "edited\n";
  if (auto done = ApplyLeaseChange(*request, first, first); !done.ok())
    return done.error().message();
  if (ReadFile(resolv) != "edited\n") return "resolv.conf rewritten by a routine renewal";
  const DhcpLease moved = LeaseFromStatic({0x0a090007, 24, 0x0a0900fe, 0x0a090035});
  if (auto done = ApplyLeaseChange(*request, first, moved); !done.ok())
    return done.error().message();
  wrong =
      CheckConfigured(0x0a090007, 0x0a0900fe, 1500, resolv, "nameserver 10.9.0.53\nsearch lan\n");
  if (!wrong.empty()) return "moved lease: " + wrong;
  if (HasDefaultRoute(0x0a090001)) return "route via the old router kept";
  DhcpLease rerouted = moved;  // same address, another router
  rerouted.router = 0x0a090001;
  if (auto done = ApplyLeaseChange(*request, moved, rerouted); !done.ok())
    return done.error().message();
  if (!HasDefaultRoute(0x0a090001) || HasDefaultRoute(0x0a0900fe))
    return "router change:\n" + ReadFile("/proc/net/route");
  return "";
}

TEST(AgentNetConfig, LeaseChangesReapplyOnlyWhatChanged) {
  const std::string dir = MakeTempDir();
  std::string failure;
  auto skip = RunInNetns([&] { return LeaseChanges(dir + "/resolv.conf"); }, failure);
  std::system(("rm -rf " + dir).c_str());
  if (skip) GTEST_SKIP() << *skip;
  EXPECT_EQ(failure, "");
}

bool WaitRunning(const char* name) {
  for (int i = 0; i < 100; ++i) {
    UniqueFd sock(socket(AF_INET, SOCK_DGRAM, 0));
    ifreq request{};
    std::strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(sock.get(), SIOCGIFFLAGS, &request) == 0 && (request.ifr_flags & IFF_RUNNING))
      return true;
    usleep(10000);
  }
  return false;
}

// The IPv4 source of the next DHCP message the peer sees; nullopt: none.
std::optional<uint32_t> NextClientSource(int fd) {
  for (int packets = 0; packets < 20; ++packets) {
    pollfd ready{fd, POLLIN, 0};
    if (poll(&ready, 1, 2000) <= 0) break;
    std::vector<uint8_t> buffer(4096);
    const ssize_t got = recv(fd, buffer.data(), buffer.size(), 0);
    auto datagram = ParseIpv4Udp(std::span(buffer.data(), got > 0 ? got : 0), UdpChecksum::kSkip);
    if (datagram && datagram->dst_port == 67) return datagram->src_ip;
  }
  return std::nullopt;
}

std::string PacketTransportOnVeth() {
  if (!LinkUp("vk1") || !LinkUp("vk0") || !WaitRunning("vk0") || !WaitRunning("vk1"))
    return "bring up the veth pair";
  const int peer_index = static_cast<int>(if_nametoindex("vk1"));
  UniqueFd peer = BoundPacketSocket(peer_index);
  if (!peer) return "peer socket";
  auto transport = OpenPacketTransport("vk0");
  if (!transport.ok()) return transport.error().message();
  // Other traffic first: the kernel filter must keep it off the socket.
  SendRaw(peer.get(), peer_index, BuildIpv4Udp({0x0a090001, 0xffffffffu, 67, 5353, {1, 2, 3}}));
  SendRaw(peer.get(), peer_index, BuildIpv4Udp({0x0a090001, 0xffffffffu, 67, 68, {4, 5, 6}}));
  auto got = (*transport)->Receive(milliseconds(2000));
  if (!got.ok() || !*got) return "no DHCP datagram received";
  if (**got != std::vector<uint8_t>{4, 5, 6}) return "the socket queued other traffic first";
  DhcpClientOptions options;
  options.mac = {0x52, 0x54, 0, 1, 2, 3};
  if (!(*transport)->Send(BuildDhcpDiscover(options, 1)).ok()) return "send DISCOVER";
  if (NextClientSource(peer.get()) != 0u) return "DISCOVER not from 0.0.0.0";
  if (!(*transport)->Send(BuildDhcpRenewal(options, 2, 0x0a090002)).ok()) return "send renewal";
  if (NextClientSource(peer.get()) != 0x0a090002u) return "renewal not from its ciaddr";
  return "";
}

TEST(AgentNetConfig, PacketTransportFiltersAndSendsFromCiaddr) {
  std::string failure;
  auto skip = RunInNetns(PacketTransportOnVeth, failure);
  if (skip) GTEST_SKIP() << *skip;
  EXPECT_EQ(failure, "");
}

TEST(AgentNetConfig, MissingInterfaceIsAClearError) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root for a network namespace";
  std::string failure;
  auto skip = RunInNetns(
      [] {
        auto done = ConfigureNetwork(*ParseNetParam("dhcp"));  // no eth0 here
        if (done.ok()) return std::string("configured a missing eth0");
        const std::string& text = done.error().message();
        return text.find("network eth0") != std::string::npos ? "" : "unclear error: " + text;
      },
      failure);
  if (skip) GTEST_SKIP() << *skip;
  EXPECT_EQ(failure, "");
}

}  // namespace
}  // namespace vk::agent
