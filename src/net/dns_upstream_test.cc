// UdpDnsUpstream against a fake resolver on 127.0.0.1: id rewriting,
// timeouts with retries, resolv.conf parsing, and what an off-path spoofer
// would have to guess (source port, id) and may not get away with.
#include "net/dns_upstream.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>

#include "net/frame_test_util.h"

namespace vk::net {
namespace {

struct FakeResolver {
  explicit FakeResolver(uint32_t ip = INADDR_LOOPBACK, uint16_t port = 0) {
    fd.Reset(socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(ip);
    addr.sin_port = htons(port);
    bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t length = sizeof(addr);
    getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &length);
    std::memcpy(&server.address, &addr, sizeof(addr));
    server.length = sizeof(addr);
  }
  uint16_t port() const {
    return ntohs(reinterpret_cast<const sockaddr_in&>(server.address).sin_port);
  }

  UniqueFd fd;
  ResolverAddress server;
};

// A query as the resolver saw it, and where it came from.
struct Received {
  std::vector<uint8_t> query;
  sockaddr_in from{};
};

std::optional<Received> ReceiveQuery(const FakeResolver& resolver) {
  Received received;
  received.query.resize(512);
  socklen_t from_length = sizeof(received.from);
  for (int i = 0; i < 200; ++i) {
    ssize_t n = recvfrom(resolver.fd.get(), received.query.data(), received.query.size(), 0,
                         reinterpret_cast<sockaddr*>(&received.from), &from_length);
    if (n > 0) {
      received.query.resize(static_cast<size_t>(n));
      return received;
    }
    usleep(1000);
  }
  return std::nullopt;
}

// An answer (1.2.3.4) to `query`, as a resolver would build it.
std::vector<uint8_t> AnswerTo(const std::vector<uint8_t>& query) {
  auto parsed = ParseDnsMessage(query);
  return BuildDnsResponse(query, *parsed, kDnsNoError, {Ipv4(1, 2, 3, 4)}, 60, false);
}

void SendTo(int fd, const std::vector<uint8_t>& message, const sockaddr_in& to) {
  sendto(fd, message.data(), message.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof(to));
}

// How many neighbours in `values` differ by exactly one: a counter's mark.
size_t Consecutive(const std::vector<uint16_t>& values) {
  size_t count = 0;
  for (size_t i = 1; i < values.size(); ++i) {
    if (static_cast<uint16_t>(values[i] - values[i - 1]) == 1) ++count;
  }
  return count;
}

TEST(NetDnsUpstream, ParsesResolvConf) {
  auto servers = ParseResolvConf(
      "# comment\nnameserver 127.0.0.53\nsearch lan\nnameserver ::1\nnameserver bogus\n"
      "options edns0\nnameserver fe80::1%eth0\n");
  ASSERT_EQ(servers.size(), 3u);
  EXPECT_EQ(servers[0].address.ss_family, AF_INET);
  EXPECT_EQ(ntohs(reinterpret_cast<sockaddr_in&>(servers[0].address).sin_port), 53);
  EXPECT_EQ(servers[1].address.ss_family, AF_INET6);
}

TEST(NetDnsUpstream, RoundTripRestoresGuestId) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  FakeResolver resolver;
  auto upstream = UdpDnsUpstream::Create(**loop, {resolver.server});
  ASSERT_TRUE(upstream.ok()) << upstream.error().message();
  auto query = testing::DnsQuery("example.com", kDnsTypeA, 0x1111);
  std::optional<Result<std::vector<uint8_t>>> got;
  (*upstream)->Query(query, [&](auto r) { got = std::move(r); });

  // The resolver answers whatever id it was sent.
  std::vector<uint8_t> buffer(512);
  sockaddr_storage from{};
  socklen_t from_length = sizeof(from);
  ssize_t n = -1;
  for (int i = 0; i < 100 && n < 0; ++i) {
    n = recvfrom(resolver.fd.get(), buffer.data(), buffer.size(), 0,
                 reinterpret_cast<sockaddr*>(&from), &from_length);
    if (n < 0) usleep(1000);
  }
  ASSERT_GT(n, 0);
  buffer.resize(static_cast<size_t>(n));
  auto parsed = ParseDnsMessage(buffer);
  ASSERT_TRUE(parsed.ok());
  auto response = BuildDnsResponse(buffer, *parsed, kDnsNoError, {Ipv4(1, 2, 3, 4)}, 60, false);
  sendto(resolver.fd.get(), response.data(), response.size(), 0, reinterpret_cast<sockaddr*>(&from),
         from_length);
  for (int i = 0; i < 100 && !got; ++i) ASSERT_TRUE((*loop)->RunOnce(50).ok());
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->ok()) << got->error().message();
  EXPECT_EQ(Load16(got->value(), 0), 0x1111);
  EXPECT_EQ((*upstream)->pending(), 0u);
}

TEST(NetDnsUpstream, TimesOutAfterRetries) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  FakeResolver silent;
  UdpDnsUpstreamOptions options;
  options.timeout = std::chrono::milliseconds(20);
  options.attempts = 2;
  auto upstream = UdpDnsUpstream::Create(**loop, {silent.server}, options);
  ASSERT_TRUE(upstream.ok());
  std::optional<Result<std::vector<uint8_t>>> got;
  (*upstream)->Query(testing::DnsQuery("example.com"), [&](auto r) { got = std::move(r); });
  for (int i = 0; i < 100 && !got; ++i) ASSERT_TRUE((*loop)->RunOnce(20).ok());
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(got->ok());
  int sent = 0;
  std::vector<uint8_t> buffer(512);
  while (recv(silent.fd.get(), buffer.data(), buffer.size(), 0) > 0) ++sent;
  EXPECT_EQ(sent, 2);
}

// RFC 5452 §9.2: an off-path spoofer must guess a random source port and a
// random id for every query.
TEST(NetDnsUpstream, EveryQueryHasItsOwnSourcePortAndARandomId) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  FakeResolver resolver;
  auto upstream = UdpDnsUpstream::Create(**loop, {resolver.server});
  ASSERT_TRUE(upstream.ok());
  constexpr size_t kQueries = 64;
  for (size_t i = 0; i < kQueries; ++i) {
    (*upstream)->Query(testing::DnsQuery("example.com", kDnsTypeA, 7), [](auto) {});
  }
  std::vector<uint16_t> ids, ports;
  for (size_t i = 0; i < kQueries; ++i) {
    auto received = ReceiveQuery(resolver);
    ASSERT_TRUE(received) << "query " << i;
    ids.push_back(Load16(received->query, 0));
    ports.push_back(ntohs(received->from.sin_port));
  }
  std::set<uint16_t> distinct_ports(ports.begin(), ports.end());
  EXPECT_EQ(distinct_ports.size(), kQueries) << "one source port per query";
  EXPECT_LT(Consecutive(ports), kQueries / 4) << "ports are not handed out in order";
  std::set<uint16_t> distinct_ids(ids.begin(), ids.end());
  EXPECT_GE(distinct_ids.size(), kQueries - 4);
  EXPECT_LT(Consecutive(ids), 4u) << "ids are not a counter";
  EXPECT_TRUE(std::any_of(ids.begin(), ids.end(), [](uint16_t id) { return id & 0x8000; }));
  EXPECT_TRUE(std::none_of(ids.begin(), ids.end(), [](uint16_t id) { return id == 7; }))
      << "the guest's id never goes on the wire (1 in 2^16 flakes here)";
}

TEST(NetDnsUpstream, RepliesFromElsewhereWithAnotherIdOrQuestionAreIgnored) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  FakeResolver resolver;
  auto upstream = UdpDnsUpstream::Create(**loop, {resolver.server});
  ASSERT_TRUE(upstream.ok());
  std::optional<Result<std::vector<uint8_t>>> got;
  (*upstream)->Query(testing::DnsQuery("example.com", kDnsTypeA, 0x1111),
                     [&](auto r) { got = std::move(r); });
  auto received = ReceiveQuery(resolver);
  ASSERT_TRUE(received);
  std::vector<uint8_t> answer = AnswerTo(received->query);

  std::vector<uint8_t> wrong_id = answer;
  Store16(wrong_id, 0, static_cast<uint16_t>(Load16(answer, 0) ^ 0x0100));
  SendTo(resolver.fd.get(), wrong_id, received->from);
  FakeResolver other_port;  // same address, another port
  SendTo(other_port.fd.get(), answer, received->from);
  FakeResolver other_address(Ipv4(127, 0, 0, 2), resolver.port());  // same port
  SendTo(other_address.fd.get(), answer, received->from);
  auto other_question = testing::DnsQuery("evil.example", kDnsTypeA, Load16(answer, 0));
  SendTo(resolver.fd.get(), AnswerTo(other_question), received->from);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE((*loop)->RunOnce(10).ok());
  EXPECT_FALSE(got.has_value()) << "no forged reply was taken";

  SendTo(resolver.fd.get(), answer, received->from);
  for (int i = 0; i < 100 && !got; ++i) ASSERT_TRUE((*loop)->RunOnce(20).ok());
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->ok()) << got->error().message();
  EXPECT_EQ(Load16(got->value(), 0), 0x1111);
}

TEST(NetDnsUpstream, NoServersIsAnError) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  EXPECT_FALSE(UdpDnsUpstream::Create(**loop, {}).ok());
  EXPECT_FALSE(UdpDnsUpstream::FromResolvConf(**loop, "/nonexistent/resolv.conf").ok());
}

}  // namespace
}  // namespace vk::net
