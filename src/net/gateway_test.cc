// Gateway on a switch: ARP, ping, egress in both directions and malformed
// frames (every truncation of a valid frame is dropped without a reply).
#include "net/gateway.h"

#include <gtest/gtest.h>

#include "net/arp.h"
#include "net/frame_test_util.h"
#include "net/ipv4_icmp.h"
#include "net/tcp_header.h"

namespace vk::net {
namespace {

using testing::FakeClock;
using testing::Mac;
using testing::RecordingSink;

constexpr uint32_t kGatewayIp = Ipv4(192, 168, 127, 1);
constexpr uint32_t kGuestIp = Ipv4(192, 168, 127, 2);
const MacAddress kGatewayMac{{0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xdd}};

class RecordingEgress : public EgressHandler {
 public:
  void OnIpPacket(Bytes packet) override { packets.emplace_back(packet.begin(), packet.end()); }
  std::vector<std::vector<uint8_t>> packets;
};

class NetGateway : public ::testing::Test {
 protected:
  NetGateway() : gateway_(lan_, GatewayConfig{}, nullptr, clock_.clock()) {
    guest_port_ = lan_.AddPort(&guest_, "guest");
    gateway_.SetEgressHandler(&egress_);
  }
  void Send(const std::vector<uint8_t>& frame) { lan_.Receive(guest_port_, frame); }
  std::vector<uint8_t> ArpRequest(uint32_t target) {
    ArpPacket arp{kArpRequest, Mac(2), kGuestIp, MacAddress{}, target};
    return BuildEthernetFrame(MacAddress::Broadcast(), Mac(2), kEtherTypeArp, BuildArp(arp));
  }
  std::vector<uint8_t> Ping() {
    auto icmp = BuildIcmpEcho(kIcmpEchoRequest, 1, 2, std::vector<uint8_t>(32, 'x'));
    return BuildEthernetFrame(kGatewayMac, Mac(2), kEtherTypeIpv4,
                              BuildIpv4Packet(kIpProtoIcmp, kGuestIp, kGatewayIp, icmp));
  }

  FakeClock clock_;
  Switch lan_{SwitchOptions{}, clock_.clock()};
  Gateway gateway_;
  RecordingSink guest_;
  RecordingEgress egress_;
  PortId guest_port_ = 0;
};

TEST_F(NetGateway, AnswersArpForItsAddress) {
  Send(ArpRequest(kGatewayIp));
  ASSERT_EQ(guest_.frames.size(), 1u);
  auto ethernet = ParseEthernet(guest_.frames[0]);
  ASSERT_TRUE(ethernet.ok());
  EXPECT_EQ(ethernet->header.dst, Mac(2));
  EXPECT_EQ(ethernet->header.src, kGatewayMac);
  auto arp = ParseArp(ethernet->payload);
  ASSERT_TRUE(arp.ok());
  EXPECT_EQ(arp->operation, kArpReply);
  EXPECT_EQ(arp->sender_mac, kGatewayMac);
  EXPECT_EQ(arp->sender_ip, kGatewayIp);
  EXPECT_EQ(arp->target_ip, kGuestIp);
  EXPECT_EQ(lan_.Lookup(kGatewayMac), gateway_.port());
}

TEST_F(NetGateway, IgnoresArpForOtherAddresses) {
  Send(ArpRequest(Ipv4(192, 168, 127, 9)));
  EXPECT_TRUE(guest_.frames.empty());
}

TEST_F(NetGateway, AnswersPing) {
  Send(Ping());
  ASSERT_EQ(guest_.frames.size(), 1u);
  auto ethernet = ParseEthernet(guest_.frames[0]);
  auto ip = ParseIpv4Packet(ethernet->payload);
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(ip->header.dst, kGuestIp);
  auto echo = ParseIcmpEcho(ip->payload);
  ASSERT_TRUE(echo.ok());
  EXPECT_EQ(echo->type, kIcmpEchoReply);
  EXPECT_EQ(echo->sequence, 2);
  EXPECT_EQ(echo->data.size(), 32u);
}

TEST_F(NetGateway, EveryTruncationIsDropped) {
  for (const auto& frame : {ArpRequest(kGatewayIp), Ping()}) {
    for (size_t n = 0; n < frame.size(); ++n) {
      Send(std::vector<uint8_t>(frame.begin(), frame.begin() + static_cast<long>(n)));
    }
  }
  EXPECT_TRUE(guest_.frames.empty());
  EXPECT_TRUE(egress_.packets.empty());
}

TEST_F(NetGateway, RoutesOffLanTrafficToEgress) {
  auto packet = BuildUdpPacket(kGuestIp, Ipv4(8, 8, 8, 8), 4000, 443, std::vector<uint8_t>{1});
  Send(BuildEthernetFrame(kGatewayMac, Mac(2), kEtherTypeIpv4, packet));
  // Other ports on the gateway's own address go to egress too.
  auto local = BuildUdpPacket(kGuestIp, kGatewayIp, 4000, 8080, std::vector<uint8_t>{2});
  Send(BuildEthernetFrame(kGatewayMac, Mac(2), kEtherTypeIpv4, local));
  ASSERT_EQ(egress_.packets.size(), 2u);
  EXPECT_EQ(egress_.packets[0], packet);
  EXPECT_EQ(egress_.packets[1], local);
}

TEST_F(NetGateway, EgressRejectsSpoofedSourcesAndLanDestinations) {
  auto spoofed = BuildUdpPacket(Ipv4(10, 0, 0, 5), Ipv4(8, 8, 8, 8), 1, 2, {});
  Send(BuildEthernetFrame(kGatewayMac, Mac(2), kEtherTypeIpv4, spoofed));
  auto hairpin = BuildUdpPacket(kGuestIp, Ipv4(192, 168, 127, 3), 1, 2, {});
  Send(BuildEthernetFrame(kGatewayMac, Mac(2), kEtherTypeIpv4, hairpin));
  // Flooded unicast meant for another MAC is not the gateway's.
  auto other = BuildUdpPacket(kGuestIp, Ipv4(8, 8, 8, 8), 1, 2, {});
  Send(BuildEthernetFrame(Mac(7), Mac(2), kEtherTypeIpv4, other));
  EXPECT_TRUE(egress_.packets.empty());
}

TEST_F(NetGateway, FragmentsToTheGatewayGoToEgressOpaque) {
  auto packet = BuildUdpPacket(kGuestIp, kGatewayIp, 1, 53, std::vector<uint8_t>(16, 0));
  Store16(packet, 6, 0x2000);  // MF: the first fragment of a larger datagram
  Store16(packet, 10, 0);
  Store16(packet, 10, InternetChecksum(Bytes(packet).first(20)));
  Send(BuildEthernetFrame(kGatewayMac, Mac(2), kEtherTypeIpv4, packet));
  EXPECT_EQ(egress_.packets.size(), 1u);
  EXPECT_TRUE(guest_.frames.empty());  // not answered as DNS
}

TEST_F(NetGateway, SendIpPacketResolvesWithArp) {
  auto reply = BuildUdpPacket(Ipv4(8, 8, 8, 8), kGuestIp, 443, 4000, std::vector<uint8_t>{9});
  ASSERT_TRUE(gateway_.SendIpPacket(reply));
  // Unknown neighbour: an ARP request goes out, the packet waits.
  ASSERT_EQ(guest_.frames.size(), 1u);
  auto request = ParseArp(ParseEthernet(guest_.frames[0])->payload);
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->operation, kArpRequest);
  EXPECT_EQ(request->target_ip, kGuestIp);
  ArpPacket answer{kArpReply, Mac(2), kGuestIp, kGatewayMac, kGatewayIp};
  Send(BuildEthernetFrame(kGatewayMac, Mac(2), kEtherTypeArp, BuildArp(answer)));
  ASSERT_EQ(guest_.frames.size(), 2u);
  auto delivered = ParseEthernet(guest_.frames[1]);
  EXPECT_EQ(delivered->header.dst, Mac(2));
  EXPECT_EQ(std::vector<uint8_t>(delivered->payload.begin(), delivered->payload.end()), reply);
  // Now cached: straight through.
  ASSERT_TRUE(gateway_.SendIpPacket(reply));
  EXPECT_EQ(guest_.frames.size(), 3u);
}

TEST_F(NetGateway, SendIpPacketRejectsGarbageAndForeignDestinations) {
  std::vector<uint8_t> garbage(30, 0x45);
  EXPECT_FALSE(gateway_.SendIpPacket(garbage));
  auto foreign = BuildUdpPacket(Ipv4(8, 8, 8, 8), Ipv4(10, 1, 1, 1), 1, 2, {});
  EXPECT_FALSE(gateway_.SendIpPacket(foreign));
  EXPECT_TRUE(guest_.frames.empty());
}

TEST_F(NetGateway, AnswersDnsOverTheWire) {
  gateway_.dns().RegisterName("db", Ipv4(192, 168, 127, 7));
  Send(testing::UdpFrame(kGatewayMac, Mac(2), kGuestIp, kGatewayIp, 33333, kDnsPort,
                         testing::DnsQuery("db.lan")));
  ASSERT_EQ(guest_.frames.size(), 1u);
  auto out = testing::ParseUdpFrame(guest_.frames[0]);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->ethernet.dst, Mac(2));
  EXPECT_EQ(out->ip.src, kGatewayIp);
  EXPECT_EQ(out->ip.dst, kGuestIp);
  EXPECT_EQ(out->udp.src_port, kDnsPort);
  EXPECT_EQ(out->udp.dst_port, 33333);
  auto response = ParseDnsMessage(out->payload);
  ASSERT_TRUE(response.ok());
  ASSERT_EQ(response->answers.size(), 1u);
  EXPECT_EQ(ByteReader(response->answers[0].rdata).U32(), Ipv4(192, 168, 127, 7));
}

TEST_F(NetGateway, GuestCannotSpoofGatewayMac) {
  Send(testing::Frame(MacAddress::Broadcast(), kGatewayMac));
  EXPECT_EQ(lan_.Lookup(kGatewayMac), gateway_.port());
  EXPECT_EQ(lan_.Counters(guest_port_)->rx_dropped, 1u);
}

}  // namespace
}  // namespace vk::net
