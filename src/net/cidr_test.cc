#include "net/cidr.h"

#include <gtest/gtest.h>

namespace vk::net {
namespace {

std::string ErrorOf(std::string_view text) {
  auto cidr = ParseCidr(text);
  return cidr.ok() ? "ok" : cidr.error().message();
}

TEST(NetCidr, ParsesAddresses) {
  EXPECT_EQ(*ParseIpv4("1.2.3.4"), 0x01020304u);
  EXPECT_EQ(*ParseIpv4("255.255.255.255"), 0xffffffffu);
  EXPECT_EQ(*ParseIpv4("0.0.0.0"), 0u);
  EXPECT_EQ(FormatIpv4(0xC0A80114), "192.168.1.20");
}

TEST(NetCidr, RejectsAmbiguousAddresses) {
  EXPECT_EQ(ParseIpv4("1.2.3").error().message(),
            "bad IPv4 address \"1.2.3\": want four dotted decimal octets");
  EXPECT_EQ(ParseIpv4("1.2.3.4.5").error().message(),
            "bad IPv4 address \"1.2.3.4.5\": want four dotted decimal octets");
  EXPECT_EQ(ParseIpv4("010.0.0.1").error().message(),
            "bad IPv4 address \"010.0.0.1\": octet \"010\" has a leading zero");
  EXPECT_EQ(ParseIpv4("1.2.3.256").error().message(),
            "bad IPv4 address \"1.2.3.256\": octet 256 is over 255");
  EXPECT_EQ(ParseIpv4("1.2.3.1000").error().message(),
            "bad IPv4 address \"1.2.3.1000\": octet \"1000\" is over 255");
  EXPECT_EQ(ParseIpv4("1..3.4").error().message(), "bad IPv4 address \"1..3.4\": empty octet");
  EXPECT_EQ(ParseIpv4("1.2.3.+4").error().message(),
            "bad IPv4 address \"1.2.3.+4\": octet \"+4\" is not a decimal number");
  EXPECT_FALSE(ParseIpv4(" 1.2.3.4").ok());
  EXPECT_FALSE(ParseIpv4("1.2.3.4 ").ok());
  EXPECT_FALSE(ParseIpv4("").ok());
  EXPECT_FALSE(ParseIpv4("0x1.2.3.4").ok());
  EXPECT_FALSE(ParseIpv4("1.2.3.4/32").ok());
}

TEST(NetCidr, ParsesBlocks) {
  EXPECT_EQ(*ParseCidr("10.0.0.0/8"), (Cidr{0x0A000000, 8}));
  EXPECT_EQ(*ParseCidr("1.2.3.4"), Cidr::Host(0x01020304));
  EXPECT_EQ(*ParseCidr("0.0.0.0/0"), Cidr::Any());
  EXPECT_EQ(*ParseCidr("1.2.3.4/32"), Cidr::Host(0x01020304));
  EXPECT_EQ(ParseCidr("10.0.0.0/8")->ToString(), "10.0.0.0/8");
  EXPECT_EQ(ParseCidr("1.2.3.4/32")->ToString(), "1.2.3.4");
}

TEST(NetCidr, RejectsBadBlocks) {
  EXPECT_EQ(ErrorOf("1.2.3.4/33"), "bad CIDR \"1.2.3.4/33\": prefix length 33 is over 32");
  EXPECT_EQ(ErrorOf("10.0.0.0/08"),
            "bad CIDR \"10.0.0.0/08\": prefix length \"08\" has a leading zero");
  EXPECT_EQ(ErrorOf("10.0.0.0/"), "bad CIDR \"10.0.0.0/\": empty prefix length");
  EXPECT_EQ(ErrorOf("10.0.0.0/-1"),
            "bad CIDR \"10.0.0.0/-1\": prefix length \"-1\" is not a decimal number");
  EXPECT_EQ(ErrorOf("10.0.0.1/8"),
            "bad CIDR \"10.0.0.1/8\": host bits are set (did you mean 10.0.0.0/8 or 10.0.0.1?)");
  EXPECT_EQ(ErrorOf("10.0.0/8"), "bad CIDR \"10.0.0/8\": want four dotted decimal octets");
  EXPECT_EQ(ErrorOf("10.0.0.0/8/8"),
            "bad CIDR \"10.0.0.0/8/8\": prefix length \"8/8\" is not a decimal number");
}

TEST(NetCidr, Contains) {
  Cidr ten = *ParseCidr("10.0.0.0/8");
  EXPECT_TRUE(ten.Contains(*ParseIpv4("10.255.1.2")));
  EXPECT_FALSE(ten.Contains(*ParseIpv4("11.0.0.0")));
  EXPECT_FALSE(ten.Contains(*ParseIpv4("9.255.255.255")));
  EXPECT_TRUE(Cidr::Any().Contains(0));
  EXPECT_TRUE(Cidr::Any().Contains(0xffffffff));
  Cidr host = Cidr::Host(*ParseIpv4("169.254.169.254"));
  EXPECT_TRUE(host.Contains(*ParseIpv4("169.254.169.254")));
  EXPECT_FALSE(host.Contains(*ParseIpv4("169.254.169.253")));
  Cidr odd = *ParseCidr("192.168.4.0/22");
  EXPECT_TRUE(odd.Contains(*ParseIpv4("192.168.7.255")));
  EXPECT_FALSE(odd.Contains(*ParseIpv4("192.168.8.0")));
}

}  // namespace
}  // namespace vk::net
