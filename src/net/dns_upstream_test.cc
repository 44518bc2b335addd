// UdpDnsUpstream against a fake resolver on 127.0.0.1: id rewriting,
// timeouts with retries, and resolv.conf parsing.
#include "net/dns_upstream.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>

#include "net/frame_test_util.h"

namespace vk::net {
namespace {

struct FakeResolver {
  FakeResolver() {
    fd.Reset(socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t length = sizeof(addr);
    getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &length);
    std::memcpy(&server.address, &addr, sizeof(addr));
    server.length = sizeof(addr);
  }
  UniqueFd fd;
  ResolverAddress server;
};

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

TEST(NetDnsUpstream, NoServersIsAnError) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  EXPECT_FALSE(UdpDnsUpstream::Create(**loop, {}).ok());
  EXPECT_FALSE(UdpDnsUpstream::FromResolvConf(**loop, "/nonexistent/resolv.conf").ok());
}

}  // namespace
}  // namespace vk::net
