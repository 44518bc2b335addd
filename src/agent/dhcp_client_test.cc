// The DHCP client against a fake transport replaying hand-built server
// replies (RFC 2131 §2 layout, RFC 2132 options), and the IPv4/UDP framing
// checked against values computed independently here.
#include "agent/dhcp_client.h"

#include <gtest/gtest.h>

#include "agent/testing_dhcp_transport.h"

namespace vk::agent {
namespace {

using std::chrono::milliseconds;

constexpr MacAddress kMac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
constexpr uint32_t kXid = 0x11223344;

std::vector<uint8_t> Concat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A reply from 192.168.127.1 giving 192.168.127.2, byte by byte.
std::vector<uint8_t> ServerReply(uint32_t xid, const std::vector<uint8_t>& options,
                                 MacAddress mac = kMac) {
  std::vector<uint8_t> m = {2, 1, 6, 0};  // op BOOTREPLY, htype Ethernet, hlen 6, hops
  for (int i = 3; i >= 0; --i) m.push_back(static_cast<uint8_t>(xid >> (8 * i)));
  m.insert(m.end(), {0, 0, 0, 0});            // secs, flags
  m.insert(m.end(), {0, 0, 0, 0});            // ciaddr
  m.insert(m.end(), {192, 168, 127, 2});      // yiaddr
  m.insert(m.end(), {192, 168, 127, 1});      // siaddr
  m.insert(m.end(), {0, 0, 0, 0});            // giaddr
  m.insert(m.end(), mac.begin(), mac.end());  // chaddr
  m.insert(m.end(), 10 + 64 + 128, 0);        // chaddr padding, sname, file
  m.insert(m.end(), {99, 130, 83, 99});       // magic cookie
  return Concat(m, options);
}

const std::vector<uint8_t> kNetworkOptions = {
    54,  4, 192,  168,  127,  1,     // server identifier
    1,   4, 255,  255,  255,  0,     // subnet mask
    3,   4, 192,  168,  127,  1,     // router
    6,   4, 192,  168,  127,  1,     // DNS
    15,  3, 'l',  'a',  'n',         // domain
    26,  2, 0x05, 0xdc,              // MTU 1500
    51,  4, 0,    0,    0x0e, 0x10,  // lease 3600 s
    12,  4, 'w',  'e',  'b',  '1',   // hostname
    255,                             // end, as the last byte: any cut loses it
};

std::vector<uint8_t> Offer(uint32_t xid = kXid) {
  return ServerReply(xid, Concat({53, 1, 2}, kNetworkOptions));
}
std::vector<uint8_t> Ack(uint32_t xid = kXid) {
  return ServerReply(xid, Concat({53, 1, 5}, kNetworkOptions));
}
std::vector<uint8_t> Nak(uint32_t xid = kXid) {
  return ServerReply(xid, {53, 1, 6, 54, 4, 192, 168, 127, 1, 255});
}

// The test's own option reader for what the client sent.
std::optional<std::vector<uint8_t>> SentOption(const std::vector<uint8_t>& m, uint8_t code) {
  for (size_t at = 240; at + 1 < m.size() && m[at] != 255;) {
    if (m[at] == 0) {
      ++at;
      continue;
    }
    if (m[at] == code)
      return std::vector<uint8_t>(m.begin() + at + 2, m.begin() + at + 2 + m[at + 1]);
    at += 2 + m[at + 1];
  }
  return std::nullopt;
}

uint32_t SentXid(const std::vector<uint8_t>& m) {
  return uint32_t{m[4]} << 24 | uint32_t{m[5]} << 16 | uint32_t{m[6]} << 8 | m[7];
}
uint8_t SentType(const std::vector<uint8_t>& m) { return SentOption(m, 53).value().at(0); }

// Replies come from `respond`; with nothing queued, Receive lets the whole
// timeout pass on a fake clock.
class FakeTransport : public QueuedDhcpTransport {
 public:
  using Responder = std::function<std::vector<std::vector<uint8_t>>(const std::vector<uint8_t>&)>;
  explicit FakeTransport(Responder respond) : respond_(std::move(respond)) {}

  DhcpClientOptions Options() {
    DhcpClientOptions options;
    options.mac = kMac;
    options.hostname = "web1";
    options.xid = kXid;
    options.now = [this] { return std::chrono::steady_clock::time_point(now); };
    return options;
  }

 protected:
  std::vector<std::vector<uint8_t>> Replies(const std::vector<uint8_t>& payload) override {
    return respond_(payload);
  }

 private:
  Responder respond_;
};

// A server that offers and acknowledges, answering on the sender's xid.
std::vector<std::vector<uint8_t>> GoodServer(const std::vector<uint8_t>& m) {
  return {SentType(m) == 1 ? Offer(SentXid(m)) : Ack(SentXid(m))};
}

TEST(AgentDhcp, FullExchangeYieldsLease) {
  FakeTransport transport(GoodServer);
  auto lease = RunDhcpClient(transport, transport.Options());
  ASSERT_TRUE(lease.ok()) << lease.error().message();
  EXPECT_EQ(FormatIpv4(lease->ip), "192.168.127.2");
  EXPECT_EQ(lease->prefix_len, 24);
  EXPECT_EQ(FormatIpv4(lease->router), "192.168.127.1");
  ASSERT_EQ(lease->dns_servers.size(), 1u);
  EXPECT_EQ(FormatIpv4(lease->dns_servers[0]), "192.168.127.1");
  EXPECT_EQ(lease->domain, "lan");
  EXPECT_EQ(lease->hostname, "web1");
  EXPECT_EQ(lease->mtu, 1500);
  EXPECT_EQ(lease->lease_seconds, 3600u);
  EXPECT_EQ(FormatIpv4(lease->server_id), "192.168.127.1");
  EXPECT_EQ(transport.sent.size(), 2u);
}

TEST(AgentDhcp, DiscoverAndRequestCarryRfcFields) {
  FakeTransport transport(GoodServer);
  ASSERT_TRUE(RunDhcpClient(transport, transport.Options()).ok());
  const auto& discover = transport.sent.at(0);
  const auto& request = transport.sent.at(1);
  EXPECT_GE(discover.size(), 300u);  // RFC 1542 minimum BOOTP size
  EXPECT_EQ(discover[0], 1);         // BOOTREQUEST
  EXPECT_EQ(std::vector<uint8_t>(discover.begin() + 236, discover.begin() + 240),
            (std::vector<uint8_t>{99, 130, 83, 99}));
  EXPECT_EQ(std::vector<uint8_t>(discover.begin() + 28, discover.begin() + 34),
            std::vector<uint8_t>(kMac.begin(), kMac.end()));
  EXPECT_EQ(SentType(discover), 1);
  EXPECT_EQ(SentOption(discover, 61), (std::vector<uint8_t>{1, 0x52, 0x54, 0, 0x12, 0x34, 0x56}));
  EXPECT_EQ(SentOption(discover, 12), (std::vector<uint8_t>{'w', 'e', 'b', '1'}));
  EXPECT_EQ(SentType(request), 3);
  EXPECT_EQ(SentXid(request), kXid);
  EXPECT_EQ(SentOption(request, 50), (std::vector<uint8_t>{192, 168, 127, 2}));
  EXPECT_EQ(SentOption(request, 54), (std::vector<uint8_t>{192, 168, 127, 1}));
}

TEST(AgentDhcp, RenewalRequestCarriesCiaddrAndNoServerOptions) {
  FakeTransport transport(GoodServer);
  const auto m = BuildDhcpRenewal(transport.Options(), kXid + 5, 0xc0a87f02);
  EXPECT_GE(m.size(), 300u);
  EXPECT_EQ(m[0], 1);
  EXPECT_EQ(SentType(m), 3);
  EXPECT_EQ(SentXid(m), kXid + 5);
  EXPECT_EQ(std::vector<uint8_t>(m.begin() + 12, m.begin() + 16),
            (std::vector<uint8_t>{192, 168, 127, 2}));  // ciaddr
  EXPECT_EQ(std::vector<uint8_t>(m.begin() + 16, m.begin() + 20),
            (std::vector<uint8_t>{0, 0, 0, 0}));  // yiaddr
  EXPECT_FALSE(SentOption(m, 50).has_value());
  EXPECT_FALSE(SentOption(m, 54).has_value());
  EXPECT_EQ(SentOption(m, 12), (std::vector<uint8_t>{'w', 'e', 'b', '1'}));
  EXPECT_EQ(SentOption(m, 61), (std::vector<uint8_t>{1, 0x52, 0x54, 0, 0x12, 0x34, 0x56}));
}

TEST(AgentDhcp, NakRestartsWithNewXid) {
  int requests = 0;
  FakeTransport transport([&](const std::vector<uint8_t>& m) -> std::vector<std::vector<uint8_t>> {
    if (SentType(m) == 1) return {Offer(SentXid(m))};
    return {++requests == 1 ? Nak(SentXid(m)) : Ack(SentXid(m))};
  });
  auto lease = RunDhcpClient(transport, transport.Options());
  ASSERT_TRUE(lease.ok()) << lease.error().message();
  ASSERT_EQ(transport.sent.size(), 4u);
  EXPECT_EQ(SentType(transport.sent[2]), 1);  // back to DISCOVER
  EXPECT_EQ(SentXid(transport.sent[2]), kXid + 1);
}

TEST(AgentDhcp, EndlessNaksGiveUp) {
  FakeTransport transport([](const std::vector<uint8_t>& m) -> std::vector<std::vector<uint8_t>> {
    return {SentType(m) == 1 ? Offer(SentXid(m)) : Nak(SentXid(m))};
  });
  auto options = transport.Options();
  auto lease = RunDhcpClient(transport, options);
  ASSERT_FALSE(lease.ok());
  EXPECT_NE(lease.error().message().find("refused"), std::string::npos);
  EXPECT_EQ(transport.sent.size(), 2u * (options.max_restarts + 1));
}

TEST(AgentDhcp, SilenceRetriesWithBackoffThenFails) {
  FakeTransport transport([](const auto&) { return std::vector<std::vector<uint8_t>>(); });
  auto lease = RunDhcpClient(transport, transport.Options());
  ASSERT_FALSE(lease.ok());
  EXPECT_NE(lease.error().message().find("no DHCP offer"), std::string::npos);
  EXPECT_EQ(transport.send_times,
            (std::vector<milliseconds>{milliseconds(0), milliseconds(1000), milliseconds(3000),
                                       milliseconds(7000)}));
  EXPECT_EQ(transport.now, milliseconds(15000));
}

TEST(AgentDhcp, TotalTimeoutCoversBothPhases) {
  int discovers = 0;
  FakeTransport transport([&](const std::vector<uint8_t>& m) {
    // Offers only after the third DISCOVER (t = 3 s); never acknowledges.
    std::vector<std::vector<uint8_t>> replies;
    if (SentType(m) == 1 && ++discovers == 3) replies.push_back(Offer(SentXid(m)));
    return replies;
  });
  auto lease = RunDhcpClient(transport, transport.Options());
  ASSERT_FALSE(lease.ok());
  EXPECT_NE(lease.error().message().find("did not acknowledge"), std::string::npos);
  EXPECT_EQ(transport.now, milliseconds(15000));  // the shared deadline, not 3 + 15 s
}

TEST(AgentDhcp, GarbageWrongXidAndForeignMacIgnored) {
  FakeTransport transport([](const std::vector<uint8_t>& m) -> std::vector<std::vector<uint8_t>> {
    const uint32_t xid = SentXid(m);
    std::vector<std::vector<uint8_t>> replies = {{}, {1, 2, 3}, std::vector<uint8_t>(600, 0xff)};
    replies.push_back(SentType(m) == 1 ? Offer(xid + 1) : Ack(xid - 1));
    replies.push_back(ServerReply(xid, Concat({53, 1, 2}, kNetworkOptions), {1, 2, 3, 4, 5, 6}));
    replies.push_back(m);  // our own broadcast, looped back (op 1)
    replies.push_back(SentType(m) == 1 ? Offer(xid) : Ack(xid));
    return replies;
  });
  auto lease = RunDhcpClient(transport, transport.Options());
  ASSERT_TRUE(lease.ok()) << lease.error().message();
  EXPECT_EQ(transport.sent.size(), 2u);
}

TEST(AgentDhcp, EveryTruncationOfAnOfferIsRejected) {
  const std::vector<uint8_t> offer = Offer();
  ASSERT_TRUE(ParseDhcpReply(offer, kXid, kMac).has_value());
  for (size_t length = 0; length < offer.size(); ++length) {
    EXPECT_FALSE(ParseDhcpReply(std::span(offer).first(length), kXid, kMac).has_value())
        << "length " << length;
  }
}

TEST(AgentDhcp, TruncatedRepliesNeverYieldALease) {
  FakeTransport transport([](const std::vector<uint8_t>& m) {
    const std::vector<uint8_t> offer = Offer(SentXid(m));
    std::vector<std::vector<uint8_t>> replies;
    for (size_t n = 0; n < offer.size(); ++n)
      replies.emplace_back(offer.begin(), offer.begin() + n);
    return replies;
  });
  EXPECT_FALSE(RunDhcpClient(transport, transport.Options()).ok());
  EXPECT_EQ(transport.sent.size(), 4u);
}

TEST(AgentDhcp, OfferWithoutServerIdIsNotTaken) {
  FakeTransport transport([](const std::vector<uint8_t>& m) -> std::vector<std::vector<uint8_t>> {
    return {ServerReply(SentXid(m), {53, 1, 2, 1, 4, 255, 255, 255, 0, 255})};
  });
  EXPECT_FALSE(RunDhcpClient(transport, transport.Options()).ok());
}

// A reply like Offer/Ack/Nak but from `server` (0: without option 54).
std::vector<uint8_t> From(std::vector<uint8_t> reply, uint8_t server_last_byte) {
  // kNetworkOptions and Nak() open with option 54 right after option 53.
  EXPECT_EQ(reply[243], 54);
  if (server_last_byte == 0) {
    reply[243] = 0;  // overwrite the option with pads
    for (size_t i = 244; i < 249; ++i) reply[i] = 0;
  } else {
    reply[248] = server_last_byte;
  }
  return reply;
}

// Finding: the client accepted an ACK or NAK from any server (or one naming
// no server), so a rogue guest could answer the REQUEST meant for the gateway.
TEST(AgentDhcp, AckAndNakCountOnlyFromTheServerWhoseOfferWasTaken) {
  FakeTransport transport([](const std::vector<uint8_t>& m) -> std::vector<std::vector<uint8_t>> {
    const uint32_t xid = SentXid(m);
    if (SentType(m) == 1) return {Offer(xid), From(Offer(xid), 254)};
    return {From(Nak(xid), 254), From(Nak(xid), 0), From(Ack(xid), 254), From(Ack(xid), 0),
            Ack(xid)};
  });
  auto lease = RunDhcpClient(transport, transport.Options());
  ASSERT_TRUE(lease.ok()) << lease.error().message();
  EXPECT_EQ(FormatIpv4(lease->server_id), "192.168.127.1");
  EXPECT_EQ(transport.sent.size(), 2u);  // no NAK restarted us
  EXPECT_EQ(SentOption(transport.sent[1], 54), (std::vector<uint8_t>{192, 168, 127, 1}));
}

TEST(AgentDhcp, ConfiguredServerIsTheOnlyOneBelieved) {
  FakeTransport transport([](const std::vector<uint8_t>& m) -> std::vector<std::vector<uint8_t>> {
    const uint32_t xid = SentXid(m);
    if (SentType(m) == 1) return {From(Offer(xid), 254), Offer(xid)};
    return {Ack(xid)};
  });
  auto options = transport.Options();
  options.server_id = *ParseIpv4("192.168.127.1");
  auto lease = RunDhcpClient(transport, options);
  ASSERT_TRUE(lease.ok()) << lease.error().message();
  EXPECT_EQ(FormatIpv4(lease->server_id), "192.168.127.1");
  // Only a rogue offers: no lease at all.
  FakeTransport rogue([](const std::vector<uint8_t>& m) -> std::vector<std::vector<uint8_t>> {
    return {SentType(m) == 1 ? From(Offer(SentXid(m)), 254) : From(Ack(SentXid(m)), 254)};
  });
  EXPECT_FALSE(RunDhcpClient(rogue, options).ok());
}

// After a NAK the client starts over but keeps asking the same server.
TEST(AgentDhcp, NakRestartStaysWithTheFirstServer) {
  int discovers = 0;
  FakeTransport transport([&](const std::vector<uint8_t>& m) -> std::vector<std::vector<uint8_t>> {
    const uint32_t xid = SentXid(m);
    if (SentType(m) == 1) {
      if (++discovers == 1) return {Offer(xid)};
      return {From(Offer(xid), 254), Offer(xid)};  // a rogue is quicker this time
    }
    if (discovers == 1) return {Nak(xid)};
    return {From(Ack(xid), 254), Ack(xid)};
  });
  auto lease = RunDhcpClient(transport, transport.Options());
  ASSERT_TRUE(lease.ok()) << lease.error().message();
  EXPECT_EQ(FormatIpv4(lease->server_id), "192.168.127.1");
  ASSERT_EQ(transport.sent.size(), 4u);
  EXPECT_EQ(SentOption(transport.sent[3], 54), (std::vector<uint8_t>{192, 168, 127, 1}));
}

std::optional<DhcpReply> ParseOffer(const std::vector<uint8_t>& options) {
  return ParseDhcpReply(ServerReply(kXid, Concat({53, 1, 2, 54, 4, 10, 0, 0, 1}, options)), kXid,
                        kMac);
}

TEST(AgentDhcp, OptionBounds) {
  EXPECT_FALSE(ParseOffer({3, 8, 1, 2, 3, 4, 255}).has_value());      // length past the end
  EXPECT_FALSE(ParseOffer({3}).has_value());                          // code without length
  EXPECT_FALSE(ParseOffer({1, 4, 255, 0, 255, 0, 255}).has_value());  // mask not contiguous
  EXPECT_FALSE(ParseDhcpReply(ServerReply(kXid, {53, 1, 9, 255}), kXid, kMac).has_value());
  EXPECT_FALSE(ParseDhcpReply(ServerReply(kXid, {53, 2, 2, 2, 255}), kXid, kMac).has_value());
  auto odd = ParseOffer({3, 3, 10, 0, 0, 26, 2, 0, 67, 51, 3, 1, 2, 3, 0, 0, 255});
  ASSERT_TRUE(odd.has_value());
  EXPECT_EQ(odd->lease.router, 0u);  // too short to be an address
  EXPECT_EQ(odd->lease.mtu, 0);      // below RFC 2132's minimum of 68
  EXPECT_EQ(odd->lease.lease_seconds, 0u);
  EXPECT_EQ(odd->lease.prefix_len, 24);  // classful default for 192.168/16 (class C)
}

TEST(AgentDhcp, LeaseTimersAreRead) {
  auto reply = ParseOffer({51, 4, 0, 0, 0, 0, 58, 4, 0, 0, 1, 0, 59, 4, 0, 0, 2, 0, 255});
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->lease.lease_seconds, 1u);  // 0 s: absurd, kept apart from "not offered"
  EXPECT_EQ(reply->lease.renewal_seconds, 256u);
  EXPECT_EQ(reply->lease.rebinding_seconds, 512u);
  auto odd = ParseOffer({58, 2, 1, 0, 59, 5, 0, 0, 0, 1, 0, 255});
  ASSERT_TRUE(odd.has_value());
  EXPECT_EQ(odd->lease.lease_seconds, 0u);
  EXPECT_EQ(odd->lease.renewal_seconds, 0u);  // wrong lengths
  EXPECT_EQ(odd->lease.rebinding_seconds, 0u);
}

TEST(AgentDhcp, DnsListsAndNames) {
  auto reply =
      ParseOffer({6,  18, 1,   1,    1,   1,   2,   2,   2,  2, 3, 3, 3, 3, 4, 4, 4, 4, 9, 9,  //
                  15, 4,  'l', 'a',  'n', 0,                                                   //
                  12, 6,  'a', '\n', 'b', 'c', 'd', 'e', 255});
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(reply->lease.dns_servers.size(), kMaxDnsServers);
  EXPECT_EQ(FormatIpv4(reply->lease.dns_servers[2]), "3.3.3.3");
  EXPECT_EQ(reply->lease.domain, "lan");  // a counted NUL tolerated
  EXPECT_EQ(reply->lease.hostname, "");   // a newline would inject a resolv.conf line
}

TEST(AgentDhcp, SplitOptionsConcatenateAndOverloadIsIgnored) {
  // RFC 3396: option 6 in two parts; option 52 (overload) says sname/file
  // hold more options, which we do not read.
  auto reply = ParseOffer({6, 4, 8, 8, 8, 8, 52, 1, 3, 6, 4, 8, 8, 4, 4, 255});
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(reply->lease.dns_servers.size(), 2u);
  EXPECT_EQ(FormatIpv4(reply->lease.dns_servers[1]), "8.8.4.4");
}

// RFC 1071 computed the slow, obvious way: sum words, fold at the end.
uint16_t ReferenceChecksum(const std::vector<uint8_t>& bytes) {
  uint64_t sum = 0;
  for (size_t i = 0; i < bytes.size(); ++i) sum += i % 2 == 0 ? bytes[i] * 256u : bytes[i];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

TEST(AgentDhcp, HeaderChecksumMatchesKnownVector) {
  // The classic worked example: 192.168.0.1 -> 192.168.0.199, checksum b861.
  std::vector<uint8_t> header = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(InternetChecksum(header), 0xb861);
  EXPECT_EQ(ReferenceChecksum(header), 0xb861);
}

TEST(AgentDhcp, BuiltPacketVerifiesIndependently) {
  UdpDatagram datagram{0, 0xffffffffu, 68, 67, {1, 2, 3, 4, 5}};  // odd length
  const std::vector<uint8_t> packet = BuildIpv4Udp(datagram);
  ASSERT_EQ(packet.size(), 20u + 8u + 5u);
  EXPECT_EQ(packet[0], 0x45);
  EXPECT_EQ(packet[9], 17);
  EXPECT_EQ(packet[2] << 8 | packet[3], 33);
  EXPECT_EQ(ReferenceChecksum({packet.begin(), packet.begin() + 20}), 0);
  // Pseudo-header (RFC 768) + UDP header + data must sum to zero.
  std::vector<uint8_t> pseudo = {0, 0, 0, 0, 255, 255, 255, 255, 0, 17, 0, 13};
  pseudo.insert(pseudo.end(), packet.begin() + 20, packet.end());
  EXPECT_EQ(ReferenceChecksum(pseudo), 0);
  auto parsed = ParseIpv4Udp(packet, UdpChecksum::kVerify);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->src_port, 68);
  EXPECT_EQ(parsed->dst_ip, 0xffffffffu);
  EXPECT_EQ(parsed->payload, datagram.payload);
}

TEST(AgentDhcp, ParseIpv4UdpRejectsDamage) {
  const std::vector<uint8_t> packet = BuildIpv4Udp({0x0a000001, 0x0a000002, 67, 68, {9, 9, 9}});
  auto padded = packet;
  padded.insert(padded.end(), 20, 0);  // Ethernet minimum-size padding
  ASSERT_TRUE(ParseIpv4Udp(padded, UdpChecksum::kVerify).has_value());
  EXPECT_EQ(ParseIpv4Udp(padded, UdpChecksum::kVerify)->payload.size(), 3u);
  for (size_t n = 0; n < packet.size(); ++n)
    EXPECT_FALSE(ParseIpv4Udp(std::span(packet).first(n), UdpChecksum::kVerify)) << n;
  auto bad_data = packet;
  bad_data.back() ^= 1;
  EXPECT_FALSE(ParseIpv4Udp(bad_data, UdpChecksum::kVerify).has_value());
  EXPECT_TRUE(ParseIpv4Udp(bad_data, UdpChecksum::kSkip).has_value());  // offloaded
  auto bad_header = packet;
  bad_header[8] = 1;  // TTL changed, header checksum not
  EXPECT_FALSE(ParseIpv4Udp(bad_header, UdpChecksum::kSkip).has_value());
  auto fragment = BuildIpv4Udp({0x0a000001, 0x0a000002, 67, 68, {}});
  fragment[6] = 0x20;  // MF
  fragment[10] = fragment[11] = 0;
  const uint16_t sum = InternetChecksum(std::span(fragment).first(20));
  fragment[10] = static_cast<uint8_t>(sum >> 8);
  fragment[11] = static_cast<uint8_t>(sum);
  EXPECT_FALSE(ParseIpv4Udp(fragment, UdpChecksum::kVerify).has_value());
}

TEST(AgentDhcp, AddressHelpers) {
  EXPECT_EQ(ParseIpv4("192.168.127.2"), 0xc0a87f02u);
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1..2.3", "a.b.c.d",
                          "1.2.3.-4", " 1.2.3.4"}) {
    EXPECT_FALSE(ParseIpv4(bad).has_value()) << bad;
  }
  EXPECT_EQ(PrefixToMask(24), 0xffffff00u);
  EXPECT_EQ(PrefixToMask(32), 0xffffffffu);
  EXPECT_EQ(PrefixToMask(1), 0x80000000u);
  EXPECT_TRUE(IsValidDnsName("web1.lan"));
  EXPECT_FALSE(IsValidDnsName("-x"));
  EXPECT_FALSE(IsValidDnsName("a..b"));
  EXPECT_FALSE(IsValidDnsName("a b"));
}

}  // namespace
}  // namespace vk::agent
