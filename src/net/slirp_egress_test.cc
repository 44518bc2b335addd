// SlirpEgress end to end: a fake guest on a Switch + Gateway reaches host
// loopback servers through libslirp (UDP echo, TCP handshake and data), a
// host client reaches the guest through a port forward, and TCP to
// gateway:53 is answered by the Gateway's own DNS server. The test thread is
// the gateway's loop thread: it sends frames and pumps the loop itself.
#include "net/slirp_egress.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <deque>
#include <functional>
#include <optional>

#include "net/arp.h"
#include "net/cidr.h"
#include "net/dns_tcp_stream.h"
#include "net/frame_test_util.h"
#include "net/tcp_header.h"

namespace vk::net {
namespace {

using testing::BoundLoopbackSocket;
using testing::Mac;
using testing::ParseTcpFrame;
using testing::RecordingSink;
using testing::TcpOut;
using testing::TcpPacket;

constexpr uint32_t kGatewayIp = Ipv4(192, 168, 127, 1);
constexpr uint32_t kGuestIp = Ipv4(192, 168, 127, 2);
const MacAddress kGatewayMac{{0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xdd}};
const MacAddress kGuestMac = Mac(2);

class NetSlirpEgress : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok()) << loop.error().message();
    loop_ = std::move(*loop);
    gateway_.emplace(lan_, GatewayConfig{}, nullptr);
    guest_port_ = lan_.AddPort(&guest_, "guest");
    auto egress =
        SlirpEgress::Create(*loop_, *gateway_, SlirpEgressOptions::ForGateway(gateway_->config()));
    ASSERT_TRUE(egress.ok()) << egress.error().message();
    egress_ = std::move(*egress);
    // The guest announces itself, so the gateway can address replies to it.
    ArpPacket arp{kArpRequest, kGuestMac, kGuestIp, MacAddress{}, kGatewayIp};
    Send(BuildEthernetFrame(MacAddress::Broadcast(), kGuestMac, kEtherTypeArp, BuildArp(arp)));
    guest_.frames.clear();
  }
  void TearDown() override {
    egress_.reset();
    gateway_.reset();
  }

  void Send(const std::vector<uint8_t>& frame) { lan_.Receive(guest_port_, frame); }
  void SendIp(const std::vector<uint8_t>& packet) {
    Send(BuildEthernetFrame(kGatewayMac, kGuestMac, kEtherTypeIpv4, packet));
  }
  // Runs the gateway loop until `done` or `limit`.
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

  std::unique_ptr<EventLoop> loop_;
  Switch lan_;
  std::optional<Gateway> gateway_;
  RecordingSink guest_;
  PortId guest_port_ = 0;
  std::unique_ptr<SlirpEgress> egress_;
};

TEST_F(NetSlirpEgress, UdpEchoThroughHostLoopback) {
  uint16_t port = 0;
  UniqueFd server = BoundLoopbackSocket(SOCK_DGRAM, &port);
  ASSERT_TRUE(server.valid());
  std::vector<uint8_t> hello{'p', 'i', 'n', 'g'};
  SendIp(BuildUdpPacket(kGuestIp, kGatewayIp, 5555, port, hello));

  // The host server sees the datagram (from loopback) and echoes it.
  uint8_t buf[64];
  sockaddr_in from{};
  socklen_t from_len = sizeof(from);
  ssize_t got = -1;
  ASSERT_TRUE(PumpUntil([&] {
    got = ::recvfrom(server.get(), buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from),
                     &from_len);
    return got >= 0;
  }));
  ASSERT_EQ(std::vector<uint8_t>(buf, buf + got), hello);
  ::sendto(server.get(), "pong", 4, 0, reinterpret_cast<sockaddr*>(&from), from_len);

  std::optional<testing::UdpOut> echo;
  ASSERT_TRUE(PumpUntil([&] {
    for (const auto& frame : guest_.frames) {
      auto udp = testing::ParseUdpFrame(frame);
      if (udp && udp->udp.dst_port == 5555) echo = udp;
    }
    return echo.has_value();
  }));
  EXPECT_EQ(echo->ethernet.src, kGatewayMac);
  EXPECT_EQ(echo->ethernet.dst, kGuestMac);
  EXPECT_EQ(echo->ip.src, kGatewayIp);  // host loopback appears as the gateway
  EXPECT_EQ(echo->ip.dst, kGuestIp);
  EXPECT_EQ(echo->udp.src_port, port);
  EXPECT_EQ(echo->payload, (std::vector<uint8_t>{'p', 'o', 'n', 'g'}));

  SlirpEgressStats stats = egress_->Stats();
  EXPECT_EQ(stats.to_host_packets, 1u);
  EXPECT_GE(stats.to_lan_packets, 1u);
  EXPECT_EQ(stats.to_host_dropped + stats.to_lan_dropped, 0u);
}

TEST_F(NetSlirpEgress, TcpHandshakeAndDataToHostLoopback) {
  uint16_t port = 0;
  UniqueFd listener = BoundLoopbackSocket(SOCK_STREAM, &port);
  ASSERT_TRUE(listener.valid());
  ASSERT_EQ(::listen(listener.get(), 4), 0);

  constexpr uint16_t kGuestPort = 40000;
  constexpr uint32_t kIsn = 1000;
  SendIp(TcpPacket(kGuestIp, kGatewayIp, kGuestPort, port, kIsn, 0, kTcpSyn));
  auto syn_ack = WaitForTcp([&](const TcpOut& t) {
    return t.tcp.dst_port == kGuestPort && t.tcp.Has(kTcpSyn) && t.tcp.Has(kTcpAck);
  });
  ASSERT_TRUE(syn_ack.has_value());
  EXPECT_EQ(syn_ack->tcp.ack, kIsn + 1);
  EXPECT_EQ(syn_ack->ip.src, kGatewayIp);

  // Slirp answers the SYN only once its host connect() succeeded.
  UniqueFd conn;
  ASSERT_TRUE(PumpUntil([&] {
    conn = UniqueFd(::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    return conn.valid();
  }));
  std::vector<uint8_t> data{'h', 'e', 'l', 'l', 'o'};
  SendIp(TcpPacket(kGuestIp, kGatewayIp, kGuestPort, port, kIsn + 1, syn_ack->tcp.seq + 1,
                   kTcpAck | kTcpPsh, data));
  char buf[16];
  ssize_t got = -1;
  ASSERT_TRUE(PumpUntil([&] {
    got = ::recv(conn.get(), buf, sizeof(buf), 0);
    return got > 0;
  }));
  EXPECT_EQ(std::string(buf, static_cast<size_t>(got)), "hello");
  // And slirp acknowledges the data to the guest.
  EXPECT_TRUE(WaitForTcp([&](const TcpOut& t) {
                return t.tcp.dst_port == kGuestPort && t.tcp.ack == kIsn + 1 + data.size();
              }).has_value());
}

// The guest side of one TCP connection to gateway:53.
struct DnsConnection {
  uint16_t port = 0;
  uint32_t seq = 0;         // guest's next sequence number
  uint32_t server_isn = 0;  // from the SYN-ACK
};

class NetSlirpDnsOverTcp : public NetSlirpEgress {
 protected:
  DnsConnection Open(uint16_t port) {
    DnsConnection connection{port, 7000u + port, 0};
    SendIp(TcpPacket(kGuestIp, kGatewayIp, port, kDnsPort, connection.seq, 0, kTcpSyn));
    auto syn_ack = WaitForTcp([&](const TcpOut& t) {
      return t.tcp.dst_port == port && t.tcp.Has(kTcpSyn) && t.tcp.Has(kTcpAck);
    });
    EXPECT_TRUE(syn_ack.has_value());
    if (!syn_ack) return connection;
    // Readdressed back: the guest only ever talks to the gateway.
    EXPECT_EQ(syn_ack->ip.src, kGatewayIp);
    EXPECT_EQ(syn_ack->tcp.src_port, kDnsPort);
    connection.seq += 1;
    connection.server_isn = syn_ack->tcp.seq;
    SendIp(TcpPacket(kGuestIp, kGatewayIp, port, kDnsPort, connection.seq,
                     connection.server_isn + 1, kTcpAck));
    return connection;
  }
  void Write(DnsConnection& connection, const std::vector<uint8_t>& data) {
    SendIp(TcpPacket(kGuestIp, kGatewayIp, connection.port, kDnsPort, connection.seq,
                     connection.server_isn + 1, kTcpAck | kTcpPsh, data));
    connection.seq += static_cast<uint32_t>(data.size());
  }
  // The server's in-order byte stream to `connection` (retransmits skipped),
  // cut into DNS messages; waits for `count` of them.
  std::vector<DnsMessage> Answers(const DnsConnection& connection, size_t count) {
    std::vector<DnsMessage> answers;
    PumpUntil([&] {
      DnsTcpStream stream;
      uint32_t next = connection.server_isn + 1;
      for (const auto& frame : guest_.frames) {
        auto tcp = ParseTcpFrame(frame);
        if (!tcp || tcp->tcp.dst_port != connection.port || tcp->tcp.seq != next) continue;
        EXPECT_EQ(tcp->ip.src, kGatewayIp);
        next += static_cast<uint32_t>(stream.Append(tcp->payload));
      }
      answers.clear();
      for (auto message = stream.Next(); message.ok() && message->has_value();
           message = stream.Next()) {
        // Parsed records point into their message: keep it alive.
        auto parsed = ParseDnsMessage(messages_.emplace_back(std::move(**message)));
        if (parsed.ok()) answers.push_back(*parsed);
      }
      return answers.size() >= count;
    });
    return answers;
  }

  std::deque<std::vector<uint8_t>> messages_;  // what answers point into
};

uint32_t FirstA(const DnsMessage& message) {
  for (const auto& record : message.answers) {
    if (record.type == kDnsTypeA) return ByteReader(record.rdata).U32();
  }
  return 0;
}

TEST_F(NetSlirpDnsOverTcp, GatewayAnswersWithItsPolicyAndNames) {
  gateway_->dns().RegisterName("web1", Ipv4(192, 168, 127, 9));
  gateway_->dns().name_filter = [](std::string_view name) { return name != "denied.example"; };
  DnsConnection connection = Open(41000);
  // Two pipelined queries in one segment.
  std::vector<uint8_t> wire = *FrameDnsTcpMessage(testing::DnsQuery("web1.lan", kDnsTypeA, 1));
  auto denied = *FrameDnsTcpMessage(testing::DnsQuery("denied.example", kDnsTypeA, 2));
  wire.insert(wire.end(), denied.begin(), denied.end());
  Write(connection, wire);
  auto answers = Answers(connection, 2);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0].header.id, 1);
  EXPECT_EQ(FirstA(answers[0]), Ipv4(192, 168, 127, 9));
  EXPECT_EQ(answers[1].header.id, 2);
  EXPECT_EQ(answers[1].header.rcode(), kDnsNxDomain);
}

TEST_F(NetSlirpDnsOverTcp, ConcurrentConnectionsStayApart) {
  gateway_->dns().RegisterName("one", Ipv4(192, 168, 127, 11));
  gateway_->dns().RegisterName("two", Ipv4(192, 168, 127, 12));
  DnsConnection first = Open(42001);
  DnsConnection second = Open(42002);
  // Each sends half a message, then the rest: interleaved on the wire.
  auto one = *FrameDnsTcpMessage(testing::DnsQuery("one.lan", kDnsTypeA, 11));
  auto two = *FrameDnsTcpMessage(testing::DnsQuery("two.lan", kDnsTypeA, 12));
  Write(first, std::vector<uint8_t>(one.begin(), one.begin() + 5));
  Write(second, std::vector<uint8_t>(two.begin(), two.begin() + 7));
  Write(first, std::vector<uint8_t>(one.begin() + 5, one.end()));
  Write(second, std::vector<uint8_t>(two.begin() + 7, two.end()));
  auto first_answers = Answers(first, 1);
  auto second_answers = Answers(second, 1);
  ASSERT_EQ(first_answers.size(), 1u);
  ASSERT_EQ(second_answers.size(), 1u);
  EXPECT_EQ(FirstA(first_answers[0]), Ipv4(192, 168, 127, 11));
  EXPECT_EQ(FirstA(second_answers[0]), Ipv4(192, 168, 127, 12));
}

TEST_F(NetSlirpDnsOverTcp, TinyFirstFragmentToTheGatewayIsDropped) {
  // 8 bytes of TCP: the ports, but not the rest of the header (RFC 1858).
  std::vector<uint8_t> packet = BuildIpv4Packet(
      kIpProtoTcp, kGuestIp, kGatewayIp, std::vector<uint8_t>{0x9c, 0x40, 0x00, 0x35, 0, 0, 0, 0});
  Store16(packet, 6, 0x2000);  // more fragments follow
  Store16(packet, 10, 0);
  Store16(packet, 10, InternetChecksum(Bytes(packet).first(kIpv4MinHeader)));
  SendIp(packet);
  EXPECT_EQ(egress_->Stats().to_host_dropped, 1u);
  EXPECT_EQ(egress_->Stats().to_host_packets, 0u);
}

TEST_F(NetSlirpEgress, PortForwardDeliversSynToGuest) {
  // Reserve a free port, then hand it to slirp.
  uint16_t host_port = 0;
  BoundLoopbackSocket(SOCK_STREAM, &host_port);
  constexpr uint16_t kGuestPort = 8080;
  auto added = egress_->AddPortForward(ForwardProto::kTcp, Ipv4(127, 0, 0, 1), host_port, kGuestIp,
                                       kGuestPort);
  ASSERT_TRUE(added.ok()) << added.error().message();

  UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(host_port);
  ::connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));

  auto syn = WaitForTcp([&](const TcpOut& t) {
    return t.tcp.dst_port == kGuestPort && t.tcp.Has(kTcpSyn) && !t.tcp.Has(kTcpAck);
  });
  ASSERT_TRUE(syn.has_value());
  EXPECT_EQ(syn->ip.dst, kGuestIp);
  EXPECT_EQ(syn->ip.src, kGatewayIp);

  EXPECT_TRUE(egress_->RemovePortForward(ForwardProto::kTcp, Ipv4(127, 0, 0, 1), host_port).ok());
}

TEST_F(NetSlirpEgress, PortForwardErrors) {
  uint16_t taken = 0;
  UniqueFd holder = BoundLoopbackSocket(SOCK_STREAM, &taken);
  ASSERT_EQ(::listen(holder.get(), 1), 0);
  auto clash = egress_->AddPortForward(ForwardProto::kTcp, Ipv4(127, 0, 0, 1), taken, kGuestIp, 80);
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.error().message().find("forward tcp host port"), std::string::npos);
  EXPECT_FALSE(egress_->RemovePortForward(ForwardProto::kUdp, Ipv4(127, 0, 0, 1), taken).ok());
  EXPECT_FALSE(egress_->AddPortForward(ForwardProto::kTcp, 0, 1234, 0, 80).ok());
}

TEST_F(NetSlirpEgress, AddressesLandingOnTheHostAreRefused) {
  uint16_t port = 0;
  UniqueFd listener = BoundLoopbackSocket(SOCK_STREAM, &port);
  ASSERT_EQ(::listen(listener.get(), 4), 0);
  std::vector<uint32_t> targets{Ipv4(127, 0, 0, 1), Ipv4(127, 9, 9, 9), Ipv4(0, 0, 0, 0)};
  for (size_t i = 0; i < targets.size(); ++i) {
    auto guest_port = static_cast<uint16_t>(43000 + i);
    SendIp(TcpPacket(kGuestIp, targets[i], guest_port, port, 1, 0, kTcpSyn));
    auto reset = WaitForTcp([&](const TcpOut& t) { return t.tcp.dst_port == guest_port; });
    ASSERT_TRUE(reset) << FormatIpv4(targets[i]);
    EXPECT_EQ(reset->tcp.flags, kTcpRst | kTcpAck);
    EXPECT_EQ(reset->ip.src, targets[i]);
  }
  // UDP is refused with an ICMP "administratively prohibited" from the gateway.
  SendIp(BuildUdpPacket(kGuestIp, Ipv4(127, 0, 0, 1), 5555, port, std::vector<uint8_t>{1}));
  std::optional<Ipv4Header> icmp;
  PumpUntil([&] {
    for (const auto& frame : guest_.frames) {
      auto ip = ParseIpv4Packet(ParseEthernet(frame)->payload);
      if (ip.ok() && ip->header.protocol == kIpProtoIcmp) icmp = ip->header;
    }
    return icmp.has_value();
  });
  ASSERT_TRUE(icmp);
  EXPECT_EQ(icmp->src, kGatewayIp);
  EXPECT_FALSE(PumpUntil(
      [&] { return UniqueFd(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC)).valid(); },
      std::chrono::milliseconds(300)));
  EXPECT_EQ(egress_->Stats().to_host_packets, 0u);
}

// Multicast (and 240/4) sent from a host socket would reach the host's
// network segment, and no reply could come back through the NAT.
TEST_F(NetSlirpEgress, MulticastAndReservedDestinationsAreRefused) {
  for (uint32_t dst : {Ipv4(239, 255, 255, 250), Ipv4(224, 0, 0, 251), Ipv4(240, 0, 0, 1)}) {
    guest_.frames.clear();
    SendIp(BuildUdpPacket(kGuestIp, dst, 5353, 1900, std::vector<uint8_t>{1}));
    bool answered = PumpUntil([&] {
      for (const auto& frame : guest_.frames) {
        auto ip = ParseIpv4Packet(ParseEthernet(frame)->payload);
        if (ip.ok() && ip->header.protocol == kIpProtoIcmp) return true;
      }
      return false;
    });
    EXPECT_TRUE(answered) << FormatIpv4(dst);
  }
  EXPECT_EQ(egress_->Stats().to_host_packets, 0u);
  EXPECT_EQ(egress_->Stats().to_host_refused, 3u);
}

TEST_F(NetSlirpEgress, HostLoopbackDenyRefusesHostLanToo) {
  egress_.reset();
  SlirpEgressOptions options = SlirpEgressOptions::ForGateway(gateway_->config());
  options.host_loopback = HostLoopback::kDeny;
  auto egress = SlirpEgress::Create(*loop_, *gateway_, options);
  ASSERT_TRUE(egress.ok()) << egress.error().message();
  egress_ = std::move(*egress);
  uint16_t port = 0;
  UniqueFd listener = BoundLoopbackSocket(SOCK_STREAM, &port);
  ASSERT_EQ(::listen(listener.get(), 4), 0);
  std::vector<uint32_t> targets{kGatewayIp, Ipv4(127, 0, 0, 1), Ipv4(127, 1, 2, 3),
                                Ipv4(0, 0, 0, 0)};
  for (size_t i = 0; i < targets.size(); ++i) {
    auto guest_port = static_cast<uint16_t>(44000 + i);
    SendIp(TcpPacket(kGuestIp, targets[i], guest_port, port, 1, 0, kTcpSyn));
    auto reset = WaitForTcp([&](const TcpOut& t) { return t.tcp.dst_port == guest_port; });
    ASSERT_TRUE(reset) << FormatIpv4(targets[i]);
    EXPECT_TRUE(reset->tcp.Has(kTcpRst)) << FormatIpv4(targets[i]);
  }
  EXPECT_FALSE(PumpUntil(
      [&] { return UniqueFd(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC)).valid(); },
      std::chrono::milliseconds(300)));
}

// A forward's guest side must be a LAN host: one aimed at the gateway (host
// loopback) or past the LAN would expose a host-only service on host_ip.
TEST_F(NetSlirpEgress, PortForwardToAnAddressThatIsNotAGuestIsRefused) {
  uint16_t port = 0;
  BoundLoopbackSocket(SOCK_STREAM, &port);
  for (uint32_t guest : {kGatewayIp, Ipv4(127, 0, 0, 1), Ipv4(192, 168, 127, 0),
                         Ipv4(192, 168, 127, 255), Ipv4(10, 0, 0, 1)}) {
    EXPECT_FALSE(
        egress_->AddPortForward(ForwardProto::kTcp, Ipv4(127, 0, 0, 1), port, guest, 22).ok())
        << FormatIpv4(guest);
  }
}

TEST_F(NetSlirpEgress, SlirpArpIsAnsweredWithThePseudoMac) {
  // A UDP flow makes slirp resolve the guest before replying; the answer
  // counts as an ARP reply in the stats and the guest never sees slirp's ARP.
  uint16_t port = 0;
  UniqueFd server = BoundLoopbackSocket(SOCK_DGRAM, &port);
  SendIp(BuildUdpPacket(kGuestIp, kGatewayIp, 6000, port, std::vector<uint8_t>{1}));
  sockaddr_in from{};
  socklen_t from_len = sizeof(from);
  uint8_t byte;
  ASSERT_TRUE(PumpUntil([&] {
    return ::recvfrom(server.get(), &byte, 1, 0, reinterpret_cast<sockaddr*>(&from), &from_len) ==
           1;
  }));
  ::sendto(server.get(), &byte, 1, 0, reinterpret_cast<sockaddr*>(&from), from_len);
  ASSERT_TRUE(PumpUntil([&] { return egress_->Stats().to_lan_packets >= 1; }));
  EXPECT_GE(egress_->Stats().arp_replies, 1u);
  for (const auto& frame : guest_.frames) {
    auto ethernet = ParseEthernet(frame);
    ASSERT_TRUE(ethernet.ok());
    EXPECT_NE(ethernet->header.ether_type, kEtherTypeArp);
  }
}

}  // namespace
}  // namespace vk::net
