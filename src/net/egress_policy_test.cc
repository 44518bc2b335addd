#include "net/egress_policy.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

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
  std::array<uint32_t, 1> first{1}, second{2}, third{3};
  policy.Learn("a.example.com", first, 60, 0);
  policy.Learn("b.example.com", second, 600, 0);
  policy.Learn("c.example.com", third, 600, 0);
  EXPECT_EQ(policy.learned_count(), 2u);
  EXPECT_FALSE(policy.AllowIp(1, 0));  // soonest to expire went first
  EXPECT_TRUE(policy.AllowIp(2, 0));
  EXPECT_TRUE(policy.AllowIp(3, 0));
}

}  // namespace
}  // namespace vk::net
