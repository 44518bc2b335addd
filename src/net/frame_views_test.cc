// Checked parsing of Ethernet, ARP, IPv4, ICMP, UDP and TCP headers, and the
// reply builders, with every truncation of a valid packet rejected.
#include <gtest/gtest.h>

#include <vector>

#include "net/arp.h"
#include "net/checksum.h"
#include "net/ethernet.h"
#include "net/frame_test_util.h"
#include "net/ipv4.h"
#include "net/ipv4_icmp.h"
#include "net/tcp_header.h"
#include "net/udp.h"

namespace vk::net {
namespace {

using testing::Mac;

constexpr uint32_t kA = Ipv4(192, 168, 127, 2);
constexpr uint32_t kB = Ipv4(192, 168, 127, 1);

std::vector<uint8_t> TcpPacket(uint8_t flags, size_t payload = 5) {
  std::vector<uint8_t> segment;
  ByteWriter w(segment);
  w.U16(40000);
  w.U16(443);
  w.U32(1000);
  w.U32(0);
  w.U8(6 << 4);  // 24-byte header: one option word
  w.U8(flags);
  w.U16(65535);
  w.U16(0);
  w.U16(0);
  w.U32(0x020405b4);  // MSS option
  w.Zeros(payload);
  Store16(segment, 16, TransportChecksum(kA, kB, kIpProtoTcp, segment));
  return BuildIpv4Packet(kIpProtoTcp, kA, kB, segment);
}

TEST(NetFrameViews, MacAddressParseAndFormat) {
  auto mac = MacAddress::Parse("5a:94:ef:e4:0c:dd");
  ASSERT_TRUE(mac.has_value());
  EXPECT_EQ(mac->ToString(), "5a:94:ef:e4:0c:dd");
  EXPECT_FALSE(mac->IsMulticast());
  EXPECT_TRUE(MacAddress::Broadcast().IsMulticast());
  EXPECT_FALSE(MacAddress::Parse("5a:94:ef:e4:0c").has_value());
  EXPECT_FALSE(MacAddress::Parse("5a:94:ef:e4:0c:dg").has_value());
}

TEST(NetFrameViews, Ipv4Masks) {
  EXPECT_EQ(Ipv4(192, 168, 127, 1), 0xc0a87f01u);
  EXPECT_EQ(PrefixMask(24), 0xffffff00u);
  EXPECT_EQ(PrefixMask(0), 0u);
  EXPECT_EQ(PrefixMask(32), 0xffffffffu);
}

TEST(NetFrameViews, EthernetRoundTripAndTruncation) {
  auto frame = BuildEthernetFrame(Mac(1), Mac(2), kEtherTypeArp, std::vector<uint8_t>{1, 2, 3});
  auto parsed = ParseEthernet(frame);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->header.dst, Mac(1));
  EXPECT_EQ(parsed->header.src, Mac(2));
  EXPECT_EQ(parsed->header.ether_type, kEtherTypeArp);
  EXPECT_EQ(parsed->payload.size(), 3u);
  for (size_t n = 0; n < kEthernetHeaderSize; ++n) {
    EXPECT_FALSE(ParseEthernet(Bytes(frame).first(n)).ok()) << n;
  }
}

TEST(NetFrameViews, ArpRoundTripAndTruncation) {
  ArpPacket request{kArpRequest, Mac(2), kA, MacAddress{}, kB};
  auto bytes = BuildArp(request);
  ASSERT_EQ(bytes.size(), kArpSize);
  auto parsed = ParseArp(bytes);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->sender_mac, Mac(2));
  EXPECT_EQ(parsed->sender_ip, kA);
  EXPECT_EQ(parsed->target_ip, kB);
  for (size_t n = 0; n < bytes.size(); ++n) EXPECT_FALSE(ParseArp(Bytes(bytes).first(n)).ok());
  auto wrong = bytes;
  wrong[5] = 16;  // IPv6-sized protocol address
  EXPECT_FALSE(ParseArp(wrong).ok());
  wrong = bytes;
  wrong[7] = 9;  // unknown operation
  EXPECT_FALSE(ParseArp(wrong).ok());
}

TEST(NetFrameViews, Ipv4ChecksIhlLengthAndChecksum) {
  auto packet = BuildUdpPacket(kA, kB, 1234, 53, std::vector<uint8_t>{'h', 'i'});
  auto parsed = ParseIpv4Packet(packet);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->header.src, kA);
  EXPECT_EQ(parsed->header.protocol, kIpProtoUdp);
  EXPECT_FALSE(parsed->header.is_fragment());
  for (size_t n = 0; n < packet.size(); ++n) {
    EXPECT_FALSE(ParseIpv4Packet(Bytes(packet).first(n)).ok()) << n;
  }
  auto corrupt = packet;
  corrupt[8] ^= 1;  // TTL changed without fixing the checksum
  EXPECT_FALSE(ParseIpv4Packet(corrupt).ok());
  auto bad_ihl = packet;
  bad_ihl[0] = 0x44;
  EXPECT_FALSE(ParseIpv4Packet(bad_ihl).ok());
  auto v6 = packet;
  v6[0] = 0x65;
  EXPECT_FALSE(ParseIpv4Packet(v6).ok());
}

TEST(NetFrameViews, Ipv4TrimsLinkPadding) {
  auto packet = BuildUdpPacket(kA, kB, 1, 2, std::vector<uint8_t>{});
  auto padded = packet;
  padded.resize(46, 0);  // Ethernet minimum payload
  auto parsed = ParseIpv4Packet(padded);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->packet.size(), packet.size());
  EXPECT_TRUE(ParseUdp(*parsed).ok());
}

TEST(NetFrameViews, FragmentsAreOpaque) {
  auto packet = BuildUdpPacket(kA, kB, 1, 2, std::vector<uint8_t>(16, 0));
  Store16(packet, 6, 0x0002);  // offset 16 bytes: a non-first fragment
  Store16(packet, 10, 0);
  Store16(packet, 10, InternetChecksum(Bytes(packet).first(20)));
  auto parsed = ParseIpv4Packet(packet);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->header.is_fragment());
  EXPECT_EQ(parsed->header.fragment_offset(), 2);
  EXPECT_FALSE(ParseUdp(*parsed).ok());
}

TEST(NetFrameViews, UdpChecksAndTruncation) {
  auto packet = BuildUdpPacket(kA, kB, 5353, 53, std::vector<uint8_t>{1, 2, 3});
  auto ip = ParseIpv4Packet(packet);
  ASSERT_TRUE(ip.ok());
  auto udp = ParseUdp(*ip);
  ASSERT_TRUE(udp.ok());
  EXPECT_EQ(udp->src_port, 5353);
  EXPECT_EQ(udp->dst_port, 53);
  EXPECT_EQ(udp->payload.size(), 3u);
  Ipv4Packet cut = *ip;
  for (size_t n = 0; n < ip->payload.size(); ++n) {
    cut.payload = ip->payload.first(n);
    EXPECT_FALSE(ParseUdp(cut).ok()) << n;
  }
  auto corrupt = packet;
  corrupt.back() ^= 0xff;
  EXPECT_FALSE(ParseUdp(*ParseIpv4Packet(corrupt)).ok());
  EXPECT_TRUE(ParseUdp(*ParseIpv4Packet(corrupt), L4Checksum::kSkip).ok());
  Store16(corrupt, 26, 0);  // checksum 0: none sent
  EXPECT_TRUE(ParseUdp(*ParseIpv4Packet(corrupt)).ok());
}

TEST(NetFrameViews, TcpHeaderFields) {
  auto packet = TcpPacket(kTcpSyn);
  auto ip = ParseIpv4Packet(packet);
  ASSERT_TRUE(ip.ok());
  auto tcp = ParseTcp(*ip);
  ASSERT_TRUE(tcp.ok()) << tcp.error().message();
  EXPECT_EQ(tcp->header.src_port, 40000);
  EXPECT_EQ(tcp->header.dst_port, 443);
  EXPECT_EQ(tcp->header.header_length, 24);
  EXPECT_TRUE(tcp->header.Has(kTcpSyn));
  EXPECT_FALSE(tcp->header.Has(kTcpAck));
  EXPECT_EQ(tcp->payload.size(), 5u);
  Ipv4Packet cut = *ip;
  for (size_t n = 0; n < 24; ++n) {
    cut.payload = ip->payload.first(n);
    EXPECT_FALSE(ParseTcp(cut, L4Checksum::kSkip).ok()) << n;
  }
  auto bad_offset = packet;
  bad_offset[32] = 4 << 4;  // data offset below 5
  EXPECT_FALSE(ParseTcp(*ParseIpv4Packet(bad_offset), L4Checksum::kSkip).ok());
  auto corrupt = packet;
  corrupt.back() ^= 1;
  EXPECT_FALSE(ParseTcp(*ParseIpv4Packet(corrupt)).ok());
}

TEST(NetFrameViews, IcmpEchoRoundTrip) {
  std::vector<uint8_t> data = {'p', 'i', 'n', 'g'};
  auto icmp = BuildIcmpEcho(kIcmpEchoRequest, 7, 9, data);
  auto echo = ParseIcmpEcho(icmp);
  ASSERT_TRUE(echo.ok());
  EXPECT_EQ(echo->id, 7);
  EXPECT_EQ(echo->sequence, 9);
  EXPECT_EQ(std::vector<uint8_t>(echo->data.begin(), echo->data.end()), data);
  for (size_t n = 0; n < 8; ++n) EXPECT_FALSE(ParseIcmpEcho(Bytes(icmp).first(n)).ok());
  icmp[9] ^= 1;
  EXPECT_FALSE(ParseIcmpEcho(icmp).ok());
}

}  // namespace
}  // namespace vk::net
