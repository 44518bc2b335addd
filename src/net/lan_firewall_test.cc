// The firewall in a Lan's data path (the same Lan `vk run --net --firewall`
// and `vk switch --firewall` build): a fake guest's packets to host loopback
// services through the gateway are passed, rejected (the guest gets a reset
// at once and the host never sees a connection) or silently dropped, as the
// rules say, and every other address that lands on the host (127/8, 0/8,
// the host's own addresses) never does. The test thread runs the Lan's loop.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "base/event_loop.h"
#include "base/unique_fd.h"
#include "net/arp.h"
#include "net/egress_policy.h"
#include "net/firewall_rule.h"
#include "net/frame_test_util.h"
#include "net/lan.h"

namespace vk::net {
namespace {

using testing::ParseTcpFrame;
using testing::RecordingSink;
using testing::TcpOut;
using testing::TcpPacket;

constexpr uint32_t kGatewayIp = Ipv4(192, 168, 127, 1);
constexpr uint32_t kGuestIp = Ipv4(192, 168, 127, 2);
constexpr uint16_t kGuestPort = 40000;
constexpr uint32_t kIsn = 1000;
const MacAddress kGuestMac = testing::Mac(2);

// A loopback server on a free port (listening if TCP).
UniqueFd LoopbackServer(int type, uint16_t* port) {
  UniqueFd fd = testing::BoundLoopbackSocket(type, port);
  if (fd.valid() && type == SOCK_STREAM && ::listen(fd.get(), 4) != 0) return {};
  return fd;
}

// A TCP listener on `ip`:`port` (host order), invalid if that is taken.
UniqueFd ListenerOn(uint32_t ip, uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(ip);
  addr.sin_port = htons(port);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return {};
  if (::listen(fd.get(), 4) != 0) return {};
  return fd;
}

// One of the host's own non-loopback IPv4 addresses, if it has any.
std::optional<uint32_t> OwnAddress() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return std::nullopt;
  std::optional<uint32_t> found;
  for (ifaddrs* it = list; it != nullptr && !found; it = it->ifa_next) {
    if (it->ifa_addr == nullptr || it->ifa_addr->sa_family != AF_INET) continue;
    uint32_t ip = ntohl(reinterpret_cast<sockaddr_in*>(it->ifa_addr)->sin_addr.s_addr);
    if ((ip >> 24) != 127) found = ip;
  }
  ::freeifaddrs(list);
  return found;
}

class NetLanFirewall : public ::testing::Test {
 protected:
  void Start(const std::string& rules) {
    LanOptions options;
    auto parsed = ParseRules(rules);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message();
    options.firewall = *parsed;
    Start(std::move(options));
  }
  void Start(LanOptions options) {
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok()) << loop.error().message();
    loop_ = std::move(*loop);
    options.dns_upstream = "127.0.0.1:9";  // never asked here
    auto lan = Lan::Create(*loop_, options);
    ASSERT_TRUE(lan.ok()) << lan.error().message();
    lan_ = std::move(*lan);
    port_ = lan_->AddPort(&guest_, "guest");
    ArpPacket arp{kArpRequest, kGuestMac, kGuestIp, MacAddress{}, kGatewayIp};
    port_->Deliver(
        BuildEthernetFrame(MacAddress::Broadcast(), kGuestMac, kEtherTypeArp, BuildArp(arp)));
    guest_.frames.clear();
  }
  void TearDown() override { lan_.reset(); }

  void SendIp(const std::vector<uint8_t>& packet) {
    port_->Deliver(
        BuildEthernetFrame(lan_->gateway().config().mac, kGuestMac, kEtherTypeIpv4, packet));
  }
  void SendSyn(uint16_t port) {
    SendIp(TcpPacket(kGuestIp, kGatewayIp, kGuestPort, port, kIsn, 0, kTcpSyn));
  }
  // Runs the loop until `done` or `limit`.
  bool PumpUntil(const std::function<bool()>& done,
                 std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    return testing::PumpUntil(*loop_, done, limit);
  }
  // The first TCP frame to the guest matching `match`, waiting for it.
  std::optional<TcpOut> WaitForTcp(const std::function<bool(const TcpOut&)>& match) {
    std::optional<TcpOut> found;
    PumpUntil([&] {
      for (const auto& frame : guest_.frames) {
        auto tcp = ParseTcpFrame(frame);
        if (tcp && match(*tcp)) found = tcp;
      }
      return found.has_value();
    });
    return found;
  }
  std::optional<TcpOut> WaitForTcpFrom(uint16_t port) {
    return WaitForTcp([port](const TcpOut& t) { return t.tcp.src_port == port; });
  }
  // A SYN from the guest to `dst`:`port` is answered with a reset from
  // `dst` (never passed on: the caller checks the host saw nothing).
  void ExpectResetFor(uint32_t dst, uint16_t port, uint16_t guest_port) {
    SendIp(TcpPacket(kGuestIp, dst, guest_port, port, kIsn, 0, kTcpSyn));
    auto answer = WaitForTcp([&](const TcpOut& t) { return t.tcp.dst_port == guest_port; });
    ASSERT_TRUE(answer) << FormatIpv4(dst) << ": the guest hears an answer at once";
    EXPECT_EQ(answer->tcp.flags, kTcpRst | kTcpAck) << FormatIpv4(dst);
    EXPECT_EQ(answer->ip.src, dst);
  }
  static bool Accepts(int listener) {
    UniqueFd client(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
    return client.valid();
  }

  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<Lan> lan_;
  RecordingSink guest_;
  FrameSink* port_ = nullptr;
};

TEST_F(NetLanFirewall, RejectedConnectionGetsResetAndNeverReachesTheHost) {
  uint16_t blocked = 0, open = 0;
  UniqueFd blocked_server = LoopbackServer(SOCK_STREAM, &blocked);
  UniqueFd open_server = LoopbackServer(SOCK_STREAM, &open);
  ASSERT_TRUE(blocked_server.valid() && open_server.valid());
  Start("reject egress tcp to 192.168.127.1 port " + std::to_string(blocked) + "\n");

  SendSyn(blocked);
  auto reset = WaitForTcpFrom(blocked);
  ASSERT_TRUE(reset) << "the guest hears a reset at once";
  EXPECT_EQ(reset->tcp.flags, kTcpRst | kTcpAck);
  EXPECT_EQ(reset->tcp.ack, kIsn + 1);
  EXPECT_EQ(reset->ip.src, kGatewayIp);

  SendSyn(open);
  auto syn_ack = WaitForTcpFrom(open);
  ASSERT_TRUE(syn_ack) << "other ports still pass";
  EXPECT_EQ(syn_ack->tcp.flags, kTcpSyn | kTcpAck);
  EXPECT_TRUE(PumpUntil([&] { return Accepts(open_server.get()); }));
  EXPECT_FALSE(Accepts(blocked_server.get())) << "the rejected SYN never left";
}

TEST_F(NetLanFirewall, DeniedTrafficIsDroppedWithoutAnswer) {
  uint16_t port = 0;
  UniqueFd server = LoopbackServer(SOCK_DGRAM, &port);
  ASSERT_TRUE(server.valid());
  Start("deny egress udp to any port " + std::to_string(port) + "\ndeny egress tcp\n");

  std::vector<uint8_t> hello{'h', 'i'};
  SendIp(BuildUdpPacket(kGuestIp, kGatewayIp, 5555, port, hello));
  SendSyn(port);
  char buf[16];
  bool arrived = PumpUntil([&] { return ::recv(server.get(), buf, sizeof(buf), 0) >= 0; },
                           std::chrono::milliseconds(500));
  EXPECT_FALSE(arrived) << "a denied datagram never reaches the host";
  EXPECT_TRUE(guest_.frames.empty()) << "deny answers nothing (reject would)";
}

TEST_F(NetLanFirewall, DefaultDenyEgressStillLetsRepliesOfAllowedFlowsIn) {
  uint16_t port = 0;
  UniqueFd server = LoopbackServer(SOCK_STREAM, &port);
  ASSERT_TRUE(server.valid());
  Start("allow egress tcp to 192.168.127.1 port " + std::to_string(port) +
        "\ndefault reject egress\n");
  SendSyn(port);
  auto syn_ack = WaitForTcpFrom(port);
  ASSERT_TRUE(syn_ack) << "the reply of an allowed flow passes the ingress side";
  EXPECT_EQ(syn_ack->tcp.flags, kTcpSyn | kTcpAck);

  SendSyn(static_cast<uint16_t>(port == 65535 ? 1 : port + 1));
  auto reset = WaitForTcpFrom(static_cast<uint16_t>(port == 65535 ? 1 : port + 1));
  ASSERT_TRUE(reset) << "the default rejects everything else";
  EXPECT_TRUE(reset->tcp.Has(kTcpRst));
}

// 127/8 and 0/8 go straight to host loopback in libslirp, and the host's own
// addresses reach its services too: none of them may stand in for host.lan.
TEST_F(NetLanFirewall, AddressesLandingOnTheHostCannotBypassARuleOnHostLan) {
  uint16_t port = 0;
  UniqueFd loopback = LoopbackServer(SOCK_STREAM, &port);
  ASSERT_TRUE(loopback.valid());
  UniqueFd other_loopback = ListenerOn(Ipv4(127, 1, 2, 3), port);
  std::optional<uint32_t> own = OwnAddress();
  UniqueFd own_server = own ? ListenerOn(*own, port) : UniqueFd();
  Start("reject egress tcp to 192.168.127.1 port " + std::to_string(port) + "\n");

  std::vector<uint32_t> targets{Ipv4(127, 0, 0, 1), Ipv4(127, 1, 2, 3), Ipv4(0, 0, 0, 0),
                                Ipv4(0, 1, 2, 3)};
  if (own) targets.push_back(*own);
  for (size_t i = 0; i < targets.size(); ++i) {
    ExpectResetFor(targets[i], port, static_cast<uint16_t>(kGuestPort + i));
  }
  PumpUntil([] { return false; }, std::chrono::milliseconds(300));
  EXPECT_FALSE(Accepts(loopback.get())) << "host loopback is reachable only as host.lan";
  if (other_loopback.valid()) {
    EXPECT_FALSE(Accepts(other_loopback.get()));
  }
  if (own_server.valid()) {
    EXPECT_FALSE(Accepts(own_server.get()));
  }
}

// An allowed name whose DNS answer is 127.0.0.1 must not open host loopback.
TEST_F(NetLanFirewall, AnAllowedNameAnsweringLoopbackOpensNothing) {
  uint16_t port = 0;
  UniqueFd loopback = LoopbackServer(SOCK_STREAM, &port);
  ASSERT_TRUE(loopback.valid());
  LanOptions options;
  auto allow = ParseEgressAllow("example.com");
  ASSERT_TRUE(allow.ok());
  options.egress_allow = *allow;
  Start(std::move(options));
  ASSERT_TRUE(lan_->gateway().dns().on_answer);
  lan_->gateway().dns().on_answer("example.com", {Ipv4(127, 0, 0, 1)}, 300);

  ExpectResetFor(Ipv4(127, 0, 0, 1), port, kGuestPort);
  PumpUntil([] { return false; }, std::chrono::milliseconds(300));
  EXPECT_FALSE(Accepts(loopback.get()));
}

}  // namespace
}  // namespace vk::net
