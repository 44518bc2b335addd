// Rejections: a reset for TCP (numbers per RFC 9293 §3.10.7.1), ICMP 3/13
// quoting the offending header for the rest, and silence for errors.
#include "net/reject.h"

#include <gtest/gtest.h>

#include "net/frame_test_util.h"
#include "net/ipv4_icmp.h"
#include "net/tcp_header.h"

namespace vk::net {
namespace {

using testing::TcpPacket;

constexpr uint32_t kGuest = Ipv4(192, 168, 127, 2);
constexpr uint32_t kServer = Ipv4(10, 0, 0, 9);
constexpr uint32_t kGateway = Ipv4(192, 168, 127, 1);

TcpSegment ParseAnswer(const std::vector<uint8_t>& packet, Ipv4Packet* ip) {
  auto parsed = ParseIpv4Packet(packet);
  EXPECT_TRUE(parsed.ok());
  *ip = *parsed;
  auto tcp = ParseTcp(*parsed);  // checksum verified
  EXPECT_TRUE(tcp.ok()) << tcp.error().message();
  return *tcp;
}

TEST(NetReject, SynGetsResetAcknowledgingIt) {
  auto answer = BuildRejection(TcpPacket(kGuest, kServer, 40000, 443, 1000, 0, kTcpSyn), kGateway);
  ASSERT_TRUE(answer);
  Ipv4Packet ip;
  TcpSegment reset = ParseAnswer(*answer, &ip);
  EXPECT_EQ(ip.header.src, kServer);  // as if the server's port were closed
  EXPECT_EQ(ip.header.dst, kGuest);
  EXPECT_EQ(reset.header.src_port, 443);
  EXPECT_EQ(reset.header.dst_port, 40000);
  EXPECT_EQ(reset.header.flags, kTcpRst | kTcpAck);
  EXPECT_EQ(reset.header.seq, 0u);
  EXPECT_EQ(reset.header.ack, 1001u);
}

TEST(NetReject, SegmentWithAckGetsResetAtItsAckNumber) {
  std::vector<uint8_t> data{1, 2, 3};
  auto answer = BuildRejection(
      TcpPacket(kGuest, kServer, 40000, 443, 5000, 777, kTcpAck | kTcpPsh, data), kGateway);
  ASSERT_TRUE(answer);
  Ipv4Packet ip;
  TcpSegment reset = ParseAnswer(*answer, &ip);
  EXPECT_EQ(reset.header.flags, kTcpRst);
  EXPECT_EQ(reset.header.seq, 777u);
}

TEST(NetReject, UdpGetsAdministrativelyProhibitedFromTheGateway) {
  std::vector<uint8_t> query(40, 0x5a);
  std::vector<uint8_t> packet = BuildUdpPacket(kGuest, kServer, 5353, 53, query);
  auto answer = BuildRejection(packet, kGateway);
  ASSERT_TRUE(answer);
  auto ip = ParseIpv4Packet(*answer);
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(ip->header.protocol, kIpProtoIcmp);
  EXPECT_EQ(ip->header.src, kGateway);
  EXPECT_EQ(ip->header.dst, kGuest);
  ASSERT_EQ(ip->payload.size(), 8u + 20u + 8u);  // ICMP header + IP header + 8 bytes
  EXPECT_EQ(ip->payload[0], kIcmpUnreachable);
  EXPECT_EQ(ip->payload[1], kIcmpAdminProhibited);
  EXPECT_EQ(InternetChecksum(ip->payload), 0);
  EXPECT_TRUE(std::equal(packet.begin(), packet.begin() + 28, ip->payload.begin() + 8));
}

TEST(NetReject, PingIsRejectedButErrorsAndResetsAreNot) {
  std::vector<uint8_t> ping =
      BuildIpv4Packet(kIpProtoIcmp, kGuest, kServer,
                      BuildIcmpEcho(kIcmpEchoRequest, 1, 1, std::vector<uint8_t>(8)));
  EXPECT_TRUE(BuildRejection(ping, kGateway));
  auto error =
      BuildRejection(BuildUdpPacket(kGuest, kServer, 1, 2, std::vector<uint8_t>(4)), kGateway);
  ASSERT_TRUE(error);
  EXPECT_FALSE(BuildRejection(*error, kGateway)) << "never answer an ICMP error";
  EXPECT_FALSE(BuildRejection(TcpPacket(kGuest, kServer, 1, 2, 0, 0, kTcpRst), kGateway));
}

TEST(NetReject, MalformedAndLaterFragmentsGetNothing) {
  std::vector<uint8_t> packet = TcpPacket(kGuest, kServer, 40000, 443, 1, 0, kTcpSyn);
  EXPECT_FALSE(BuildRejection(Bytes(packet).first(10), kGateway));
  packet[6] = 0x00;
  packet[7] = 0x10;  // fragment offset 16 x 8 bytes
  Store16(packet, 10, 0);
  Store16(packet, 10, InternetChecksum(Bytes(packet).first(20)));
  EXPECT_FALSE(BuildRejection(packet, kGateway));
  std::vector<uint8_t> short_tcp = BuildIpv4Packet(kIpProtoTcp, kGuest, kServer, {});
  EXPECT_FALSE(BuildRejection(short_tcp, kGateway));
}

}  // namespace
}  // namespace vk::net
