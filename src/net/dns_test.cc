// DNS: local .lan answers, forwarding through a fake upstream, the cache
// (TTL honoured with a fake clock, negative caching), the egress hooks and
// hostile messages (compression loops, truncation).
#include <gtest/gtest.h>

#include <deque>

#include "net/dns_server.h"
#include "net/frame_test_util.h"

namespace vk::net {
namespace {

using testing::DnsQuery;
using testing::FakeClock;

constexpr uint32_t kHostIp = Ipv4(192, 168, 127, 1);

class FakeUpstream : public DnsUpstream {
 public:
  void Query(std::vector<uint8_t> query, Callback done) override {
    queries.push_back(query);
    pending.push_back(std::move(done));
  }
  void Answer(Result<std::vector<uint8_t>> response) {
    auto done = std::move(pending.front());
    pending.pop_front();
    done(std::move(response));
  }
  std::vector<std::vector<uint8_t>> queries;
  std::deque<Callback> pending;
};

// A response to `query` with A records (ttl) or, if none, NXDOMAIN + SOA.
std::vector<uint8_t> UpstreamResponse(const std::vector<uint8_t>& query,
                                      const std::vector<uint32_t>& ips, uint32_t ttl,
                                      uint32_t soa_minimum = 30) {
  auto parsed = ParseDnsMessage(query);
  auto out =
      BuildDnsResponse(query, *parsed, ips.empty() ? kDnsNxDomain : kDnsNoError, ips, ttl, false);
  if (ips.empty()) {
    Store16(out, 8, 1);  // nscount
    ByteWriter w(out);
    w.U16(0xc00c);
    w.U16(kDnsTypeSoa);
    w.U16(kDnsClassIn);
    w.U32(ttl);
    w.U16(2 + 2 + 20);
    w.U16(0xc00c);  // MNAME
    w.U16(0xc00c);  // RNAME
    for (uint32_t v : {1u, 2u, 3u, 4u, soa_minimum}) w.U32(v);
  }
  return out;
}

class NetDns : public ::testing::Test {
 protected:
  NetDns() : server_(MakeConfig(), &upstream_, clock_.clock()) {}
  static DnsServerConfig MakeConfig() {
    DnsServerConfig config;
    config.host_ip = kHostIp;
    return config;
  }
  std::optional<DnsMessage> Ask(const std::vector<uint8_t>& query) {
    replies_.clear();
    server_.HandleQuery(query, [this](std::vector<uint8_t> r) { replies_.push_back(r); });
    if (replies_.empty()) return std::nullopt;
    auto parsed = ParseDnsMessage(replies_.back());
    if (!parsed.ok()) return std::nullopt;
    return *parsed;
  }
  std::vector<uint32_t> Addresses(const DnsMessage& message) {
    std::vector<uint32_t> ips;
    for (const auto& r : message.answers) {
      if (r.type == kDnsTypeA) ips.push_back(ByteReader(r.rdata).U32());
    }
    return ips;
  }

  FakeClock clock_;
  FakeUpstream upstream_;
  DnsServer server_;
  std::vector<std::vector<uint8_t>> replies_;
};

TEST_F(NetDns, AnswersRegisteredNamesAndHost) {
  server_.RegisterName("web1", Ipv4(192, 168, 127, 5));
  auto web = Ask(DnsQuery("WEB1.lan"));  // case-insensitive
  ASSERT_TRUE(web.has_value());
  EXPECT_EQ(web->header.rcode(), kDnsNoError);
  EXPECT_TRUE(web->header.flags & kDnsFlagAa);
  EXPECT_EQ(web->header.id, 0x4242);
  EXPECT_EQ(Addresses(*web), std::vector<uint32_t>{Ipv4(192, 168, 127, 5)});
  EXPECT_LE(web->answers[0].ttl, 60u);
  auto host = Ask(DnsQuery("host.lan"));
  EXPECT_EQ(Addresses(*host), std::vector<uint32_t>{kHostIp});
  EXPECT_TRUE(upstream_.queries.empty());
}

TEST_F(NetDns, UnknownLanNameIsNxDomainAndAaaaIsEmpty) {
  EXPECT_EQ(Ask(DnsQuery("nope.lan"))->header.rcode(), kDnsNxDomain);
  EXPECT_EQ(Ask(DnsQuery("lan"))->header.rcode(), kDnsNxDomain);
  auto aaaa = Ask(DnsQuery("host.lan", kDnsTypeAaaa));
  EXPECT_EQ(aaaa->header.rcode(), kDnsNoError);
  EXPECT_TRUE(aaaa->answers.empty());
  server_.RegisterName("gone", 1);
  server_.UnregisterName("gone");
  EXPECT_EQ(Ask(DnsQuery("gone.lan"))->header.rcode(), kDnsNxDomain);
}

TEST_F(NetDns, ForwardsAndCachesWithinTtl) {
  auto query = DnsQuery("example.com");
  EXPECT_FALSE(Ask(query).has_value());  // pending upstream
  ASSERT_EQ(upstream_.queries.size(), 1u);
  EXPECT_EQ(server_.in_flight(), 1u);
  upstream_.Answer(UpstreamResponse(upstream_.queries[0], {Ipv4(93, 184, 216, 34)}, 100));
  ASSERT_EQ(replies_.size(), 1u);
  EXPECT_EQ(Addresses(*ParseDnsMessage(replies_[0])),
            std::vector<uint32_t>{Ipv4(93, 184, 216, 34)});
  // A hit 40 s later: no upstream query, TTL aged, the asker's id.
  clock_.Advance(std::chrono::seconds(40));
  auto cached = Ask(DnsQuery("EXAMPLE.com", kDnsTypeA, 0x9999));
  ASSERT_TRUE(cached.has_value());
  EXPECT_EQ(upstream_.queries.size(), 1u);
  EXPECT_EQ(cached->header.id, 0x9999);
  EXPECT_EQ(cached->answers[0].ttl, 60u);
  // Expired after 100 s: asked again.
  clock_.Advance(std::chrono::seconds(61));
  EXPECT_FALSE(Ask(query).has_value());
  EXPECT_EQ(upstream_.queries.size(), 2u);
}

TEST_F(NetDns, NegativeAnswersCachedForSoaMinimum) {
  auto query = DnsQuery("missing.example");
  Ask(query);
  upstream_.Answer(UpstreamResponse(upstream_.queries[0], {}, 3600, 30));
  EXPECT_EQ(ParseDnsMessage(replies_[0])->header.rcode(), kDnsNxDomain);
  clock_.Advance(std::chrono::seconds(29));
  EXPECT_EQ(Ask(query)->header.rcode(), kDnsNxDomain);
  EXPECT_EQ(upstream_.queries.size(), 1u);
  clock_.Advance(std::chrono::seconds(2));
  Ask(query);
  EXPECT_EQ(upstream_.queries.size(), 2u);
}

TEST_F(NetDns, UpstreamFailureIsServFailAndNotCached) {
  auto query = DnsQuery("flaky.example");
  Ask(query);
  upstream_.Answer(Error("timeout"));
  EXPECT_EQ(ParseDnsMessage(replies_[0])->header.rcode(), kDnsServFail);
  Ask(query);
  EXPECT_EQ(upstream_.queries.size(), 2u);
  // A response about another question is rejected too.
  upstream_.Answer(UpstreamResponse(DnsQuery("other.example"), {1}, 60));
  EXPECT_EQ(ParseDnsMessage(replies_[0])->header.rcode(), kDnsServFail);
}

TEST_F(NetDns, NameFilterDeniesWithNxDomain) {
  server_.name_filter = [](std::string_view name) { return name != "blocked.example"; };
  EXPECT_EQ(Ask(DnsQuery("blocked.example"))->header.rcode(), kDnsNxDomain);
  EXPECT_TRUE(upstream_.queries.empty());
  Ask(DnsQuery("allowed.example"));
  EXPECT_EQ(upstream_.queries.size(), 1u);
}

TEST_F(NetDns, OnAnswerLearnsAddresses) {
  std::string learned_name;
  std::vector<uint32_t> learned;
  uint32_t learned_ttl = 0;
  server_.on_answer = [&](std::string_view name, const std::vector<uint32_t>& ips, uint32_t ttl) {
    learned_name = name;
    learned = ips;
    learned_ttl = ttl;
  };
  Ask(DnsQuery("api.example"));
  upstream_.Answer(
      UpstreamResponse(upstream_.queries[0], {Ipv4(1, 2, 3, 4), Ipv4(5, 6, 7, 8)}, 42));
  EXPECT_EQ(learned_name, "api.example");
  EXPECT_EQ(learned, (std::vector<uint32_t>{Ipv4(1, 2, 3, 4), Ipv4(5, 6, 7, 8)}));
  EXPECT_EQ(learned_ttl, 42u);
}

TEST_F(NetDns, NoUpstreamMeansServFail) {
  DnsServer lonely(MakeConfig(), nullptr, clock_.clock());
  std::vector<uint8_t> reply;
  lonely.HandleQuery(DnsQuery("example.com"), [&](std::vector<uint8_t> r) { reply = r; });
  EXPECT_EQ(ParseDnsMessage(reply)->header.rcode(), kDnsServFail);
}

TEST_F(NetDns, OversizedUpstreamAnswerIsTruncated) {
  Ask(DnsQuery("big.example"));
  std::vector<uint32_t> many(200, Ipv4(1, 1, 1, 1));  // 200 * 16 bytes > 1472
  upstream_.Answer(UpstreamResponse(upstream_.queries[0], many, 60));
  ASSERT_EQ(replies_.size(), 1u);
  EXPECT_LE(replies_[0].size(), 1472u);
  auto parsed = ParseDnsMessage(replies_[0]);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->header.flags & kDnsFlagTc);
  EXPECT_TRUE(parsed->answers.empty());
}

TEST_F(NetDns, TcpAnswersAreNotCutToUdpSize) {
  std::vector<uint8_t> tcp_reply;
  server_.HandleQuery(
      DnsQuery("big.example"), [&](std::vector<uint8_t> r) { tcp_reply = r; }, DnsTransport::kTcp);
  std::vector<uint32_t> many(200, Ipv4(1, 1, 1, 1));
  upstream_.Answer(UpstreamResponse(upstream_.queries[0], many, 60));
  auto whole = ParseDnsMessage(tcp_reply);
  ASSERT_TRUE(whole.ok());
  EXPECT_FALSE(whole->header.flags & kDnsFlagTc);
  EXPECT_EQ(whole->answers.size(), 200u);
  // The cached copy is cut for UDP askers and whole again for TCP ones.
  auto udp = Ask(DnsQuery("big.example"));
  ASSERT_TRUE(udp.has_value());
  EXPECT_TRUE(udp->header.flags & kDnsFlagTc);
  tcp_reply.clear();
  server_.HandleQuery(
      DnsQuery("big.example"), [&](std::vector<uint8_t> r) { tcp_reply = r; }, DnsTransport::kTcp);
  EXPECT_EQ(ParseDnsMessage(tcp_reply)->answers.size(), 200u);
  EXPECT_EQ(upstream_.queries.size(), 1u);
}

TEST_F(NetDns, MalformedQueries) {
  auto query = DnsQuery("example.com");
  for (size_t n = 0; n < query.size(); ++n) {
    replies_.clear();
    server_.HandleQuery(Bytes(query).first(n), [this](auto r) { replies_.push_back(r); });
    if (n < kDnsHeaderSize) {
      EXPECT_TRUE(replies_.empty()) << n;
    } else {
      ASSERT_EQ(replies_.size(), 1u) << n;
      EXPECT_EQ(ParseDnsMessage(replies_[0])->header.rcode(), kDnsFormErr) << n;
    }
  }
  auto response = query;
  response[2] |= 0x80;  // QR set: never answered (no reflection loops)
  replies_.clear();
  server_.HandleQuery(response, [this](auto r) { replies_.push_back(r); });
  EXPECT_TRUE(replies_.empty());
  EXPECT_TRUE(upstream_.queries.empty());
}

TEST(NetDnsMessage, CompressionPointersMustGoBackwards) {
  // Header, then a name that is a pointer to itself.
  std::vector<uint8_t> self(kDnsHeaderSize, 0);
  Store16(self, 4, 1);
  self.insert(self.end(), {0xc0, 0x0c, 0, 1, 0, 1});
  EXPECT_FALSE(ParseDnsMessage(self).ok());
  // Two names pointing at each other: label "a" then a pointer forward.
  std::vector<uint8_t> pair(kDnsHeaderSize, 0);
  Store16(pair, 4, 2);
  pair.insert(pair.end(), {1, 'a', 0xc0, 18, 0, 1, 0, 1, 1, 'b', 0xc0, 12, 0, 1, 0, 1});
  EXPECT_FALSE(ParseDnsMessage(pair).ok());
  // A valid backwards pointer.
  std::vector<uint8_t> ok(kDnsHeaderSize, 0);
  Store16(ok, 4, 2);
  ok.insert(ok.end(), {3, 'f', 'o', 'o', 0, 0, 1, 0, 1, 1, 'x', 0xc0, 12, 0, 1, 0, 1});
  auto parsed = ParseDnsMessage(ok);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(parsed->questions[1].name, "x.foo");
}

TEST(NetDnsMessage, NamesAreBoundedAndEscaped) {
  std::vector<uint8_t> long_name(kDnsHeaderSize, 0);
  Store16(long_name, 4, 1);
  for (int i = 0; i < 5; ++i) {
    long_name.push_back(63);
    long_name.insert(long_name.end(), 63, 'a');
  }
  long_name.insert(long_name.end(), {0, 0, 1, 0, 1});
  EXPECT_FALSE(ParseDnsMessage(long_name).ok());
  std::vector<uint8_t> dotted(kDnsHeaderSize, 0);
  Store16(dotted, 4, 1);
  dotted.insert(dotted.end(), {3, 'a', '.', 'b', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1});
  EXPECT_EQ(ParseDnsMessage(dotted)->questions[0].name, "a\\.b.com");
  std::vector<uint8_t> bad_label(kDnsHeaderSize, 0);
  Store16(bad_label, 4, 1);
  bad_label.insert(bad_label.end(), {0x40, 0, 0, 1, 0, 1});
  EXPECT_FALSE(ParseDnsMessage(bad_label).ok());
}

TEST(NetDnsMessage, CountsBeyondDataFail) {
  auto query = DnsQuery("a.b");
  Store16(query, 6, 0xffff);  // ancount with no records
  EXPECT_FALSE(ParseDnsMessage(query).ok());
}

}  // namespace
}  // namespace vk::net
