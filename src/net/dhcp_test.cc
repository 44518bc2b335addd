// DHCP through the gateway: DISCOVER -> OFFER -> REQUEST -> ACK, options,
// stable and static leases, NAK, INFORM, RELEASE and malformed input.
#include <gtest/gtest.h>

#include "net/dhcp_message.h"
#include "net/frame_test_util.h"
#include "net/gateway.h"

namespace vk::net {
namespace {

using testing::DhcpRequestMessage;
using testing::FakeClock;
using testing::Mac;
using testing::RecordingSink;

constexpr uint32_t kGatewayIp = Ipv4(192, 168, 127, 1);

class NetDhcp : public ::testing::Test {
 protected:
  NetDhcp() { guest_port_ = lan_.AddPort(&guest_, "guest"); }

  // Sends a client message (broadcast, as in INIT) and returns the reply.
  std::optional<DhcpMessage> Exchange(const DhcpMessage& message, uint32_t src_ip = 0,
                                      uint32_t dst_ip = kIpv4Broadcast) {
    guest_.frames.clear();
    MacAddress dst = dst_ip == kIpv4Broadcast ? MacAddress::Broadcast() : config_.mac;
    lan_.Receive(guest_port_,
                 testing::UdpFrame(dst, message.chaddr, src_ip, dst_ip, kDhcpClientPort,
                                   kDhcpServerPort, BuildDhcp(message)));
    for (const auto& frame : guest_.frames) {
      auto udp = testing::ParseUdpFrame(frame);
      if (!udp || udp->udp.dst_port != kDhcpClientPort) continue;
      last_ = *udp;
      auto reply = ParseDhcp(udp->payload);
      if (reply.ok()) return *reply;
    }
    return std::nullopt;
  }

  uint32_t Lease(const MacAddress& mac, const std::string& host_name = "") {
    auto discover = DhcpRequestMessage(DhcpType::kDiscover, mac);
    if (!host_name.empty()) discover.SetString(kDhcpOptHostName, host_name);
    auto offer = Exchange(discover);
    if (!offer || offer->type() != DhcpType::kOffer) return 0;
    auto request = DhcpRequestMessage(DhcpType::kRequest, mac);
    request.SetIp(kDhcpOptServerId, kGatewayIp);
    request.SetIp(kDhcpOptRequestedIp, offer->yiaddr);
    if (!host_name.empty()) request.SetString(kDhcpOptHostName, host_name);
    auto ack = Exchange(request);
    if (!ack || ack->type() != DhcpType::kAck) return 0;
    return ack->yiaddr;
  }

  FakeClock clock_;
  GatewayConfig config_;
  Switch lan_{SwitchOptions{}, clock_.clock()};
  Gateway gateway_{lan_, config_, nullptr, clock_.clock()};
  RecordingSink guest_;
  PortId guest_port_ = 0;
  testing::UdpOut last_;
};

TEST_F(NetDhcp, FullExchangeWithOptions) {
  auto discover = DhcpRequestMessage(DhcpType::kDiscover, Mac(2));
  discover.SetString(kDhcpOptHostName, "web1");
  auto offer = Exchange(discover);
  ASSERT_TRUE(offer.has_value());
  EXPECT_EQ(offer->type(), DhcpType::kOffer);
  EXPECT_EQ(offer->op, 2);
  EXPECT_EQ(offer->xid, 0x1234u);
  EXPECT_EQ(offer->yiaddr, Ipv4(192, 168, 127, 2));  // first guest is .2
  EXPECT_EQ(last_.ip.src, kGatewayIp);
  EXPECT_EQ(last_.udp.src_port, kDhcpServerPort);
  EXPECT_EQ(offer->OptionIp(kDhcpOptServerId), kGatewayIp);
  EXPECT_EQ(offer->OptionIp(kDhcpOptSubnetMask), Ipv4(255, 255, 255, 0));
  EXPECT_EQ(offer->OptionIp(kDhcpOptRouter), kGatewayIp);
  EXPECT_EQ(offer->OptionIp(kDhcpOptDnsServer), kGatewayIp);
  EXPECT_EQ(offer->OptionString(kDhcpOptDomainName), "lan");
  EXPECT_EQ(offer->OptionString(kDhcpOptHostName), "web1");
  EXPECT_EQ(offer->options[kDhcpOptInterfaceMtu], (std::vector<uint8_t>{0x05, 0xdc}));
  EXPECT_EQ(offer->options[kDhcpOptLeaseTime], (std::vector<uint8_t>{0, 0, 0x0e, 0x10}));

  auto request = DhcpRequestMessage(DhcpType::kRequest, Mac(2));
  request.SetIp(kDhcpOptServerId, kGatewayIp);
  request.SetIp(kDhcpOptRequestedIp, offer->yiaddr);
  request.SetString(kDhcpOptHostName, "web1");
  auto ack = Exchange(request);
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->type(), DhcpType::kAck);
  EXPECT_EQ(ack->yiaddr, offer->yiaddr);
  EXPECT_EQ(gateway_.dns().LookupName("web1"), offer->yiaddr);  // web1.lan registered
  EXPECT_EQ(gateway_.dhcp().leases().IpFor(Mac(2)), offer->yiaddr);
}

TEST_F(NetDhcp, LeasesAreStablePerMac) {
  uint32_t first = Lease(Mac(2));
  uint32_t second = Lease(Mac(3));
  EXPECT_EQ(first, Ipv4(192, 168, 127, 2));
  EXPECT_EQ(second, Ipv4(192, 168, 127, 3));
  // The VM restarts (same MAC) after its lease ran out: same address.
  clock_.Advance(std::chrono::hours(5));
  EXPECT_EQ(Lease(Mac(2)), first);
  EXPECT_EQ(Lease(Mac(3)), second);
}

TEST_F(NetDhcp, StaticLeaseByHostName) {
  ASSERT_TRUE(gateway_.dhcp().AddStaticLease("db", Ipv4(192, 168, 127, 50)).ok());
  EXPECT_EQ(gateway_.dns().LookupName("db"), Ipv4(192, 168, 127, 50));  // resolvable up front
  EXPECT_EQ(Lease(Mac(2), "db"), Ipv4(192, 168, 127, 50));
  EXPECT_EQ(Lease(Mac(3), "other"), Ipv4(192, 168, 127, 2));
  EXPECT_FALSE(gateway_.dhcp().AddStaticLease("dup", Ipv4(192, 168, 127, 50)).ok());
  EXPECT_FALSE(gateway_.dhcp().AddStaticLease("gw", kGatewayIp).ok());
}

TEST_F(NetDhcp, StaticLeaseByMac) {
  ASSERT_TRUE(gateway_.dhcp().AddStaticLease(Mac(9), Ipv4(192, 168, 127, 60), "fixed").ok());
  EXPECT_EQ(Lease(Mac(9)), Ipv4(192, 168, 127, 60));
  EXPECT_EQ(gateway_.dns().LookupName("fixed"), Ipv4(192, 168, 127, 60));
}

TEST_F(NetDhcp, NakForForeignOrTakenAddress) {
  auto request = DhcpRequestMessage(DhcpType::kRequest, Mac(2));
  request.SetIp(kDhcpOptRequestedIp, Ipv4(10, 0, 0, 5));  // INIT-REBOOT from another LAN
  auto nak = Exchange(request);
  ASSERT_TRUE(nak.has_value());
  EXPECT_EQ(nak->type(), DhcpType::kNak);
  EXPECT_EQ(nak->yiaddr, 0u);
  EXPECT_EQ(last_.ip.dst, kIpv4Broadcast);

  uint32_t taken = Lease(Mac(3));
  request.SetIp(kDhcpOptRequestedIp, taken);
  EXPECT_EQ(Exchange(request)->type(), DhcpType::kNak);
  request.SetIp(kDhcpOptRequestedIp, kGatewayIp);
  EXPECT_EQ(Exchange(request)->type(), DhcpType::kNak);
}

TEST_F(NetDhcp, RequestForAnotherServerIsIgnored) {
  auto request = DhcpRequestMessage(DhcpType::kRequest, Mac(2));
  request.SetIp(kDhcpOptServerId, Ipv4(192, 168, 127, 254));
  request.SetIp(kDhcpOptRequestedIp, Ipv4(192, 168, 127, 2));
  EXPECT_FALSE(Exchange(request).has_value());
}

TEST_F(NetDhcp, RenewUnicastAndInform) {
  uint32_t ip = Lease(Mac(2));
  auto renew = DhcpRequestMessage(DhcpType::kRequest, Mac(2));
  renew.ciaddr = ip;
  auto ack = Exchange(renew, ip, kGatewayIp);
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->type(), DhcpType::kAck);
  EXPECT_EQ(last_.ip.dst, ip);

  auto inform = DhcpRequestMessage(DhcpType::kInform, Mac(2));
  inform.ciaddr = ip;
  auto info = Exchange(inform, ip, kGatewayIp);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->type(), DhcpType::kAck);
  EXPECT_EQ(info->yiaddr, 0u);
  EXPECT_FALSE(info->options.contains(kDhcpOptLeaseTime));
  EXPECT_EQ(info->OptionIp(kDhcpOptDnsServer), kGatewayIp);
}

TEST_F(NetDhcp, ReleaseKeepsAddressRemembered) {
  uint32_t ip = Lease(Mac(2));
  auto release = DhcpRequestMessage(DhcpType::kRelease, Mac(2));
  release.ciaddr = ip;
  release.SetIp(kDhcpOptServerId, kGatewayIp);
  EXPECT_FALSE(Exchange(release, ip, kGatewayIp).has_value());
  EXPECT_EQ(Lease(Mac(2)), ip);
}

TEST_F(NetDhcp, ChaddrMustMatchFrameSource) {
  auto discover = DhcpRequestMessage(DhcpType::kDiscover, Mac(2));
  guest_.frames.clear();
  lan_.Receive(guest_port_,
               testing::UdpFrame(MacAddress::Broadcast(), Mac(3), 0, kIpv4Broadcast,
                                 kDhcpClientPort, kDhcpServerPort, BuildDhcp(discover)));
  EXPECT_TRUE(guest_.frames.empty());
}

TEST_F(NetDhcp, MessageRoundTripAndTruncation) {
  auto message = DhcpRequestMessage(DhcpType::kDiscover, Mac(2));
  message.SetString(kDhcpOptHostName, std::string(300, 'a'));  // split per RFC 3396
  auto bytes = BuildDhcp(message);
  auto parsed = ParseDhcp(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(parsed->OptionString(kDhcpOptHostName)->size(), 300u);
  EXPECT_EQ(parsed->type(), DhcpType::kDiscover);
  for (size_t n = 0; n < kDhcpFixedSize + 4; ++n) {
    EXPECT_FALSE(ParseDhcp(Bytes(bytes).first(n)).ok()) << n;
  }
  auto bad = bytes;
  bad[kDhcpFixedSize + 5] = 200;  // first option's length runs past the end
  bad.resize(kDhcpFixedSize + 10);
  EXPECT_FALSE(ParseDhcp(bad).ok());
}

TEST_F(NetDhcp, EveryTruncatedFrameIsDropped) {
  auto discover = DhcpRequestMessage(DhcpType::kDiscover, Mac(2));
  auto frame = testing::UdpFrame(MacAddress::Broadcast(), Mac(2), 0, kIpv4Broadcast,
                                 kDhcpClientPort, kDhcpServerPort, BuildDhcp(discover));
  guest_.frames.clear();
  for (size_t n = 0; n < frame.size(); ++n) {
    lan_.Receive(guest_port_, Bytes(frame).first(n));
  }
  EXPECT_TRUE(guest_.frames.empty());
}

// Finding: a peer's option 12 overwrote another VM's NAME.lan.
TEST_F(NetDhcp, NameStaysWithTheFirstLiveLease) {
  uint32_t web = Lease(Mac(2), "web");
  uint32_t thief = Lease(Mac(3), "web");
  ASSERT_NE(thief, 0u);
  EXPECT_EQ(gateway_.dns().LookupName("web"), web);
  auto ack = ParseDhcp(last_.payload);
  ASSERT_TRUE(ack.ok());
  EXPECT_FALSE(ack->options.contains(kDhcpOptHostName));  // not granted, not echoed
  // The owner renews: still its name. The second lease holds no name at all.
  EXPECT_EQ(Lease(Mac(2), "web"), web);
  EXPECT_EQ(gateway_.dns().LookupName("web"), web);
  EXPECT_EQ(gateway_.dhcp().leases().NameOf(thief), "");
}

TEST_F(NetDhcp, ReleasedOrExpiredLeaseFreesItsName) {
  uint32_t web = Lease(Mac(2), "web");
  auto release = DhcpRequestMessage(DhcpType::kRelease, Mac(2));
  release.ciaddr = web;
  Exchange(release, web, kGatewayIp);
  EXPECT_FALSE(gateway_.dns().LookupName("web").has_value());
  uint32_t other = Lease(Mac(3), "web");
  EXPECT_EQ(gateway_.dns().LookupName("web"), other);
  clock_.Advance(config_.lease_time + std::chrono::seconds(1));
  EXPECT_FALSE(gateway_.dns().LookupName("web").has_value());
  EXPECT_EQ(gateway_.dns().LookupName("web"), std::nullopt);
  EXPECT_EQ(Lease(Mac(2), "web"), web);  // its old address, and the name again
  EXPECT_EQ(gateway_.dns().LookupName("web"), web);
}

// Finding: 60,000 host names from one MAC grew the gateway by megabytes.
TEST_F(NetDhcp, RenamingReplacesTheLeaseName) {
  uint32_t ip = 0;
  for (int i = 0; i < 200; ++i) ip = Lease(Mac(2), "n" + std::to_string(i));
  EXPECT_EQ(gateway_.dhcp().leases().NameCount(), 1u);
  EXPECT_EQ(gateway_.dns().LookupName("n199"), ip);
  EXPECT_FALSE(gateway_.dns().LookupName("n0").has_value());
  EXPECT_FALSE(gateway_.dns().LookupName("n198").has_value());
}

TEST_F(NetDhcp, InvalidOrStaticNamesAreNotGranted) {
  ASSERT_TRUE(gateway_.dhcp().AddStaticLease(Mac(9), Ipv4(192, 168, 127, 50), "db").ok());
  for (const char* name : {"bad_name", "-lead", "x y", ""}) Lease(Mac(2), name);
  Lease(Mac(2), std::string(64, 'a'));
  EXPECT_EQ(gateway_.dhcp().leases().NameCount(), 0u);
  uint32_t ip = Lease(Mac(3), "db");  // the static "db" is reserved for Mac(9)
  EXPECT_NE(ip, Ipv4(192, 168, 127, 50));
  EXPECT_EQ(gateway_.dns().LookupName("db"), Ipv4(192, 168, 127, 50));
  EXPECT_EQ(gateway_.dhcp().leases().NameOf(ip), "");
}

TEST(NetDhcpLeases, LeasesAndNamesAreBoundedByThePool) {
  FakeClock clock;
  DhcpLeases leases(Ipv4(10, 0, 0, 2), Ipv4(10, 0, 0, 5), {}, clock.clock());
  for (uint8_t i = 0; i < 50; ++i) {
    DhcpClient client{Mac(i), "host" + std::to_string(i), ""};
    if (auto ip = leases.Choose(client, std::nullopt))
      leases.Bind(client, *ip, std::chrono::hours(1));
    for (int rename = 0; rename < 5; ++rename) {
      client.host_name = "h" + std::to_string(i) + "-" + std::to_string(rename);
      if (auto ip = leases.IpFor(client.mac)) leases.Bind(client, *ip, std::chrono::hours(1));
    }
  }
  EXPECT_EQ(leases.LeaseCount(), 4u);
  EXPECT_LE(leases.NameCount(), 4u);
}

TEST(NetDhcpLeases, HostLabels) {
  EXPECT_EQ(NormalizeHostLabel("Web-1.example.com"), "web-1");
  EXPECT_FALSE(NormalizeHostLabel("-bad").has_value());
  EXPECT_FALSE(NormalizeHostLabel("bad_name").has_value());
  EXPECT_FALSE(NormalizeHostLabel(std::string(64, 'a')).has_value());
  EXPECT_FALSE(NormalizeHostLabel("").has_value());
}

TEST(NetDhcpLeases, ExhaustedPoolReclaimsExpired) {
  FakeClock clock;
  DhcpLeases leases(Ipv4(10, 0, 0, 2), Ipv4(10, 0, 0, 3), {}, clock.clock());
  DhcpClient a{Mac(1), "", ""}, b{Mac(2), "", ""}, c{Mac(3), "", ""};
  leases.Bind(a, *leases.Choose(a, std::nullopt), std::chrono::seconds(60));
  leases.Bind(b, *leases.Choose(b, std::nullopt), std::chrono::seconds(120));
  EXPECT_FALSE(leases.Choose(c, std::nullopt).has_value());
  clock.Advance(std::chrono::seconds(61));
  EXPECT_EQ(leases.Choose(c, std::nullopt), Ipv4(10, 0, 0, 2));
}

}  // namespace
}  // namespace vk::net
