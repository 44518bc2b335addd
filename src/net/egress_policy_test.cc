#include "net/egress_policy.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "base/log.h"
#include "base/unique_fd.h"

namespace vk::net {
namespace {

constexpr uint64_t kSecond = 1000;
constexpr uint32_t kA = 0x01020304;
constexpr uint32_t kB = 0x05060708;

std::string ErrorOf(std::string_view text) {
  auto list = ParseEgressAllow(text);
  return list.ok() ? "ok" : list.error().message();
}

EgressPolicy Make(std::string_view text, EgressLimits limits = {}) {
  auto list = ParseEgressAllow(text);
  EXPECT_TRUE(list.ok()) << list.error().message();
  return EgressPolicy(std::move(*list), limits);
}

TEST(NetEgress, ParsesMixedList) {
  EgressAllowList list = *ParseEgressAllow(" github.com, *.NPMjs.org. ,10.0.0.0/8,1.1.1.1 ");
  EXPECT_EQ(list.names, (std::vector<std::string>{"github.com", "*.npmjs.org"}));
  EXPECT_EQ(list.cidrs, (std::vector<Cidr>{{0x0A000000, 8}, Cidr::Host(0x01010101)}));
  EXPECT_TRUE(ParseEgressAllow("")->names.empty());
  EXPECT_TRUE(ParseEgressAllow("  ")->cidrs.empty());
  EXPECT_EQ(ParseEgressAllow("1password.com")->names.front(), "1password.com");
}

TEST(NetEgress, ParseErrors) {
  EXPECT_EQ(ErrorOf("a.com,,b.com"), "empty entry (stray comma?)");
  EXPECT_EQ(ErrorOf("a.com,"), "empty entry (stray comma?)");
  EXPECT_EQ(ErrorOf("10.0.0.0/33"), "bad CIDR \"10.0.0.0/33\": prefix length 33 is over 32");
  EXPECT_EQ(ErrorOf("1.2.3.4.5"), "bad CIDR \"1.2.3.4.5\": want four dotted decimal octets");
  EXPECT_EQ(ErrorOf("foo..com"), "bad name \"foo..com\": empty label");
  EXPECT_EQ(ErrorOf(".com"), "bad name \".com\": empty label");
  EXPECT_EQ(ErrorOf("ex ample.com"), "bad name \"ex ample.com\": invalid character ' '");
  EXPECT_EQ(ErrorOf("*"),
            "bad name \"*\": \"*\" is only allowed as the whole first label, as in *.example.com");
  EXPECT_EQ(ErrorOf("foo*.com"),
            "bad name \"foo*.com\": \"*\" is only allowed as the whole first label, as in "
            "*.example.com");
  EXPECT_EQ(ErrorOf("*.*.com"),
            "bad name \"*.*.com\": \"*\" is only allowed as the whole first label, as in "
            "*.example.com");
  EXPECT_EQ(ErrorOf("*."), "bad name \"*.\": empty name");
  EXPECT_EQ(ErrorOf(std::string(64, 'a') + ".com"),
            "bad name \"" + std::string(64, 'a') + ".com\": label over 63 characters");
  std::string long_name;
  for (int i = 0; i < 64; ++i) long_name += "abc.";
  long_name += "com";
  EXPECT_EQ(ErrorOf(long_name), "bad name \"" + long_name + "\": over 253 characters");
}

TEST(NetEgress, ExactWildcardAndApex) {
  EgressPolicy policy = Make("example.com,*.npmjs.org");
  EXPECT_TRUE(policy.AllowName("example.com"));
  EXPECT_TRUE(policy.AllowName("EXAMPLE.com."));
  EXPECT_FALSE(policy.AllowName("www.example.com"));
  EXPECT_FALSE(policy.AllowName("example.com.evil.net"));
  EXPECT_FALSE(policy.AllowName("notexample.com"));
  EXPECT_TRUE(policy.AllowName("registry.npmjs.org"));
  EXPECT_TRUE(policy.AllowName("a.b.Registry.NPMJS.org."));
  EXPECT_FALSE(policy.AllowName("npmjs.org"));
  EXPECT_FALSE(policy.AllowName("evilnpmjs.org"));
  EXPECT_FALSE(policy.AllowName("npmjs.org.evil.net"));
}

TEST(NetEgress, NxdomainForMalformedNames) {
  EgressPolicy policy = Make("*.example.com");
  EXPECT_FALSE(policy.AllowName(""));
  EXPECT_FALSE(policy.AllowName("."));
  EXPECT_FALSE(policy.AllowName(".example.com"));
  EXPECT_FALSE(policy.AllowName("a..example.com"));
  EXPECT_FALSE(policy.AllowName("a.example.com.."));
  EXPECT_FALSE(policy.AllowName("evil\\.x.example.com"));
  EXPECT_FALSE(policy.AllowName(std::string_view("a\0.example.com", 15)));
  EXPECT_FALSE(policy.AllowName(std::string(64, 'a') + ".example.com"));
  EXPECT_TRUE(policy.AllowName("_dmarc.example.com"));
}

TEST(NetEgress, CidrAllowsWithoutDns) {
  EgressPolicy policy = Make("10.0.0.0/8,1.2.3.4");
  EXPECT_TRUE(policy.AllowIp(0x0A123456, 0));
  EXPECT_TRUE(policy.AllowIp(kA, 0));
  EXPECT_FALSE(policy.AllowIp(kB, 0));
  EXPECT_FALSE(policy.AllowName("example.com"));
}

TEST(NetEgress, EmptyListAllowsNothing) {
  EgressPolicy policy = Make("");
  EXPECT_FALSE(policy.AllowName("example.com"));
  EXPECT_FALSE(policy.AllowIp(kA, 0));
}

TEST(NetEgress, LearnedAddressesExpireWithTtl) {
  EgressPolicy policy = Make("example.com");
  std::array<uint32_t, 2> answer{kA, kB};
  policy.Learn("Example.COM.", answer, 300, 1000);
  EXPECT_TRUE(policy.AllowIp(kA, 1000));
  EXPECT_TRUE(policy.AllowIp(kB, 1000 + 300 * kSecond - 1));
  EXPECT_FALSE(policy.AllowIp(kB, 1000 + 300 * kSecond));
  EXPECT_EQ(policy.learned_count(), 2u);
  policy.Expire(1000 + 300 * kSecond);
  EXPECT_EQ(policy.learned_count(), 0u);
}

TEST(NetEgress, AnswersForRefusedNamesAreIgnored) {
  EgressPolicy policy = Make("example.com");
  std::array<uint32_t, 1> answer{kA};
  policy.Learn("evil.net", answer, 300, 0);
  EXPECT_FALSE(policy.AllowIp(kA, 0));
  EXPECT_EQ(policy.learned_count(), 0u);
}

TEST(NetEgress, TtlIsClamped) {
  EgressPolicy policy = Make("example.com");
  std::array<uint32_t, 1> a{kA};
  std::array<uint32_t, 1> b{kB};
  policy.Learn("example.com", a, 0, 0);  // TTL 0: still usable for 30 s
  EXPECT_TRUE(policy.AllowIp(kA, 30 * kSecond - 1));
  EXPECT_FALSE(policy.AllowIp(kA, 30 * kSecond));
  policy.Learn("example.com", b, 0xffffffff, 0);  // a week-long TTL: capped at 1 h
  EXPECT_TRUE(policy.AllowIp(kB, 3600 * kSecond - 1));
  EXPECT_FALSE(policy.AllowIp(kB, 3600 * kSecond));
}

TEST(NetEgress, RepeatedAnswersExtendButNeverShorten) {
  EgressPolicy policy = Make("example.com");
  std::array<uint32_t, 1> a{kA};
  policy.Learn("example.com", a, 600, 0);
  policy.Learn("example.com", a, 60, 10 * kSecond);
  EXPECT_TRUE(policy.AllowIp(kA, 600 * kSecond - 1));
  policy.Learn("example.com", a, 600, 100 * kSecond);
  EXPECT_TRUE(policy.AllowIp(kA, 700 * kSecond - 1));
  EXPECT_FALSE(policy.AllowIp(kA, 700 * kSecond));
  EXPECT_EQ(policy.learned_count(), 1u);
}

TEST(NetEgress, LearnedTableIsCapped) {
  EgressLimits limits;
  limits.max_learned = 2;
  EgressPolicy policy = Make("*.example.com", limits);
  constexpr uint32_t kC = 0x09090909;
  std::array<uint32_t, 1> first{kA}, second{kB}, third{kC};
  policy.Learn("a.example.com", first, 60, 0);
  policy.Learn("b.example.com", second, 600, 0);
  policy.Learn("c.example.com", third, 600, 0);
  EXPECT_EQ(policy.learned_count(), 2u);
  EXPECT_FALSE(policy.AllowIp(kA, 0));  // soonest to expire went first
  EXPECT_TRUE(policy.AllowIp(kB, 0));
  EXPECT_TRUE(policy.AllowIp(kC, 0));
}

// Addresses that are nobody's public service are never learned, whatever
// allowed name they answer for.
TEST(NetEgress, NeverLearnsHostLinkLocalMulticastReservedOrLanAddresses) {
  EgressPolicy policy = Make("example.com");
  const std::vector<uint32_t> never{
      0x7F000001, 0x7FFFFFFE,              // 127.0.0.1, 127.255.255.254
      0x00000000, 0x00010203,              // 0.0.0.0, 0.1.2.3
      0xA9FEA9FE, 0xA9FE0001,              // 169.254.169.254, 169.254.0.1
      0xE00000FB, 0xEFFFFFFA,              // 224.0.0.251, 239.255.255.250
      0xF0000001, 0xFFFFFFFF,              // 240.0.0.1, 255.255.255.255
      0xC0A87F01, 0xC0A87F02, 0xC0A87FFF,  // gateway, a guest, LAN broadcast
  };
  std::vector<uint32_t> answer = never;
  answer.push_back(kA);
  policy.Learn("example.com", answer, 300, 0);
  EXPECT_EQ(policy.learned_count(), 1u);
  EXPECT_TRUE(policy.AllowIp(kA, 0));
  for (uint32_t ip : never) {
    EXPECT_FALSE(policy.AllowIp(ip, 0)) << FormatIpv4(ip);
    EXPECT_NE(policy.NeverLearned(ip), nullptr) << FormatIpv4(ip);
  }
  // Neighbours of the excluded blocks are ordinary addresses.
  for (uint32_t ip : {0x01000000u, 0x7E000001u, 0x80000001u, 0xA9FD0001u, 0xDFFFFFFFu, 0xC0A87E01u,
                      0xC0A88001u}) {
    EXPECT_EQ(policy.NeverLearned(ip), nullptr) << FormatIpv4(ip);
  }
  // Another LAN: its addresses are excluded, the default LAN's are not.
  EgressPolicy other(*ParseEgressAllow("example.com"), {}, EgressLan{{0x0A090000, 16}, 0x0A090001});
  other.Learn("example.com", std::vector<uint32_t>{0x0A090304, 0xC0A87F05}, 300, 0);
  EXPECT_FALSE(other.AllowIp(0x0A090304, 0));
  EXPECT_TRUE(other.AllowIp(0xC0A87F05, 0));
}

TEST(NetEgress, LogsAnIgnoredAnswerOncePerName) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  log::SetSink(write_end.get());
  EgressPolicy policy = Make("*.example.com");
  const std::vector<uint32_t> loopback{0x7F000001, 0x7F000002};
  policy.Learn("a.example.com", loopback, 300, 0);
  policy.Learn("a.example.com", loopback, 300, 0);
  policy.Learn("b.example.com", loopback, 300, 0);
  log::SetSink(STDERR_FILENO);
  std::string text(4096, '\0');
  ssize_t n = ::read(read_end.get(), text.data(), text.size());
  text.resize(n > 0 ? static_cast<size_t>(n) : 0);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;
  EXPECT_NE(text.find("ignoring 127.0.0.1 in the DNS answer for a.example.com"), std::string::npos)
      << text;
  EXPECT_NE(text.find("b.example.com"), std::string::npos) << text;
}

}  // namespace
}  // namespace vk::net
