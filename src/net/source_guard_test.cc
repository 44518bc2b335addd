// What a VM on a shared switch cannot do: use a neighbour's MAC or leased
// address, speak for the gateway, poison ARP, or serve DHCP. Two guest ports
// and the gateway on one switch, raw frames in.
#include "net/source_guard.h"

#include <gtest/gtest.h>

#include "net/arp.h"
#include "net/frame_test_util.h"
#include "net/gateway.h"

namespace vk::net {
namespace {

using testing::DhcpRequestMessage;
using testing::FakeClock;
using testing::Mac;
using testing::RecordingSink;

constexpr uint32_t kGatewayIp = Ipv4(192, 168, 127, 1);
constexpr uint32_t kPeerIp = Ipv4(192, 168, 127, 9);  // leased by nobody
const MacAddress kGatewayMac = GatewayConfig{}.mac;

class NetSourceGuard : public ::testing::Test {
 protected:
  NetSourceGuard() {
    a_port_ = lan_.AddPort(&a_, "a");
    b_port_ = lan_.AddPort(&b_, "b");
    a_ip_ = Lease(a_port_, Mac(2));
    Clear();
  }
  void Clear() {
    a_.frames.clear();
    b_.frames.clear();
  }
  // DISCOVER/REQUEST from `mac` on `port`; the address acked (0: none).
  uint32_t Lease(PortId port, const MacAddress& mac) {
    uint32_t offered = 0;
    for (DhcpType type : {DhcpType::kDiscover, DhcpType::kRequest}) {
      auto message = DhcpRequestMessage(type, mac);
      if (type == DhcpType::kRequest) {
        message.SetIp(kDhcpOptServerId, kGatewayIp);
        message.SetIp(kDhcpOptRequestedIp, offered);
      }
      RecordingSink& sink = port == a_port_ ? a_ : b_;
      sink.frames.clear();
      lan_.Receive(port, testing::UdpFrame(MacAddress::Broadcast(), mac, 0, kIpv4Broadcast,
                                           kDhcpClientPort, kDhcpServerPort, BuildDhcp(message)));
      if (sink.frames.empty()) return 0;
      auto udp = testing::ParseUdpFrame(sink.frames.back());
      auto reply = udp ? ParseDhcp(udp->payload) : Result<DhcpMessage>(Error("none"));
      if (!reply.ok()) return 0;
      offered = reply->yiaddr;
    }
    return offered;
  }
  std::vector<uint8_t> Udp(const MacAddress& src, uint32_t src_ip, uint16_t src_port = 5000) {
    return testing::UdpFrame(MacAddress::Broadcast(), src, src_ip, Ipv4(192, 168, 127, 255),
                             src_port, 5000, std::vector<uint8_t>{1, 2, 3});
  }
  std::vector<uint8_t> Arp(uint16_t op, const MacAddress& src, uint32_t sender_ip) {
    ArpPacket arp{op, src, sender_ip, MacAddress{}, sender_ip};
    return BuildEthernetFrame(MacAddress::Broadcast(), src, kEtherTypeArp, BuildArp(arp));
  }
  uint64_t Dropped(PortId port) { return lan_.Counters(port)->rx_dropped; }

  FakeClock clock_;
  Switch lan_{SwitchOptions{}, clock_.clock()};
  Gateway gateway_{lan_, GatewayConfig{}, nullptr, clock_.clock()};
  RecordingSink a_, b_;
  PortId a_port_ = 0, b_port_ = 0;
  uint32_t a_ip_ = 0;
};

TEST_F(NetSourceGuard, PeerCannotUseALeasedAddress) {
  ASSERT_EQ(a_ip_, Ipv4(192, 168, 127, 2));
  lan_.Receive(b_port_, Udp(Mac(3), a_ip_));
  EXPECT_TRUE(a_.frames.empty());
  EXPECT_EQ(Dropped(b_port_), 1u);
  lan_.Receive(b_port_, Udp(Mac(3), kPeerIp));  // an address nobody holds is fine
  EXPECT_EQ(a_.frames.size(), 1u);
  lan_.Receive(a_port_, Udp(Mac(2), a_ip_));  // and the holder uses its own
  EXPECT_EQ(b_.frames.size(), 1u);
}

TEST_F(NetSourceGuard, PeerCannotUseTheOwnersMac) {
  lan_.Receive(b_port_, Udp(Mac(2), kPeerIp));
  EXPECT_TRUE(a_.frames.empty());
  EXPECT_EQ(lan_.Owner(Mac(2)), a_port_);
}

TEST_F(NetSourceGuard, AddressIsFreeOnceTheLeaseEnds) {
  clock_.Advance(std::chrono::hours(2));
  lan_.Receive(b_port_, Udp(Mac(3), a_ip_));
  EXPECT_EQ(a_.frames.size(), 1u);
}

TEST_F(NetSourceGuard, VmRestartedBehindANewPortGetsMacAndAddressBack) {
  lan_.RemovePort(a_port_);
  EXPECT_EQ(Lease(b_port_, Mac(2)), a_ip_);
  Clear();
  lan_.Receive(b_port_, Udp(Mac(2), a_ip_));
  EXPECT_EQ(Dropped(b_port_), 0u);
}

TEST_F(NetSourceGuard, GatewayAddressesAreNotUsableFromVmPorts) {
  lan_.Receive(b_port_, Udp(Mac(3), kGatewayIp));
  lan_.Receive(b_port_, Udp(kGatewayMac, kPeerIp));
  lan_.Receive(b_port_, Arp(kArpReply, Mac(3), kGatewayIp));
  EXPECT_TRUE(a_.frames.empty());
  EXPECT_EQ(Dropped(b_port_), 3u);
}

TEST_F(NetSourceGuard, GratuitousArpForAPeerAddressIsDropped) {
  lan_.Receive(b_port_, Arp(kArpRequest, Mac(3), a_ip_));
  lan_.Receive(b_port_, Arp(kArpReply, Mac(3), a_ip_));
  EXPECT_TRUE(a_.frames.empty());
  // ARP naming another port's MAC as the sender is poisoning too.
  ArpPacket poison{kArpReply, Mac(2), kPeerIp, MacAddress{}, kPeerIp};
  lan_.Receive(b_port_, BuildEthernetFrame(MacAddress::Broadcast(), Mac(3), kEtherTypeArp,
                                           BuildArp(poison)));
  EXPECT_TRUE(a_.frames.empty());
  EXPECT_EQ(Dropped(b_port_), 3u);
  // The gateway still sends A's traffic to A.
  ASSERT_TRUE(gateway_.SendIpPacket(BuildUdpPacket(Ipv4(8, 8, 8, 8), a_ip_, 53, 4000, {})));
  ASSERT_EQ(a_.frames.size(), 1u);
  EXPECT_EQ(ParseEthernet(a_.frames[0])->header.dst, Mac(2));
}

// An address nobody leased keeps its first claimant at the gateway while
// that MAC's port lives: a later (gratuitous) claim does not redirect it.
TEST_F(NetSourceGuard, GatewayKeepsTheFirstClaimOfAnUnleasedAddress) {
  lan_.Receive(a_port_, Arp(kArpRequest, Mac(4), kPeerIp));
  lan_.Receive(b_port_, Arp(kArpRequest, Mac(3), kPeerIp));
  lan_.Receive(b_port_, Arp(kArpReply, Mac(3), kPeerIp));
  Clear();
  auto packet = BuildUdpPacket(Ipv4(8, 8, 8, 8), kPeerIp, 53, 4000, {});
  ASSERT_TRUE(gateway_.SendIpPacket(packet));
  ASSERT_EQ(a_.frames.size(), 1u);
  EXPECT_EQ(ParseEthernet(a_.frames[0])->header.dst, Mac(4));
  EXPECT_TRUE(b_.frames.empty());
  // Its port gone, the address may be claimed afresh.
  lan_.RemovePort(a_port_);
  lan_.Receive(b_port_, Arp(kArpRequest, Mac(3), kPeerIp));
  ASSERT_TRUE(gateway_.SendIpPacket(packet));
  ASSERT_EQ(b_.frames.size(), 1u);
  EXPECT_EQ(ParseEthernet(b_.frames[0])->header.dst, Mac(3));
}

TEST_F(NetSourceGuard, RogueDhcpServerRepliesAreDropped) {
  DhcpMessage offer = DhcpRequestMessage(DhcpType::kOffer, Mac(2));
  offer.op = 2;
  offer.yiaddr = kPeerIp;
  lan_.Receive(b_port_, testing::UdpFrame(MacAddress::Broadcast(), Mac(3), kPeerIp, kIpv4Broadcast,
                                          kDhcpServerPort, kDhcpClientPort, BuildDhcp(offer)));
  EXPECT_TRUE(a_.frames.empty());
  EXPECT_EQ(Dropped(b_port_), 1u);
}

TEST_F(NetSourceGuard, VlanTagsAndMalformedHeadersAreDropped) {
  auto tagged = testing::Frame(MacAddress::Broadcast(), Mac(3), 0x8100);
  lan_.Receive(b_port_, tagged);
  lan_.Receive(b_port_, testing::Frame(MacAddress::Broadcast(), Mac(3), kEtherTypeIpv4));
  lan_.Receive(b_port_, testing::Frame(MacAddress::Broadcast(), Mac(3), kEtherTypeArp));
  EXPECT_TRUE(a_.frames.empty());
  EXPECT_EQ(Dropped(b_port_), 3u);
}

}  // namespace
}  // namespace vk::net
