#include "base/strings.h"

#include <gtest/gtest.h>

namespace vk {
namespace {

TEST(StringsTest, ParseSize) {
  EXPECT_EQ(*ParseSize("512M"), 512ull << 20);
  EXPECT_EQ(*ParseSize("4G"), 4ull << 30);
  EXPECT_EQ(*ParseSize("4g"), 4ull << 30);
  EXPECT_EQ(*ParseSize("1024"), 1024u);
  EXPECT_FALSE(ParseSize("").ok());
  EXPECT_FALSE(ParseSize("M").ok());
  EXPECT_FALSE(ParseSize("12X").ok());
  EXPECT_FALSE(ParseSize("99999999999999999999G").ok());
  EXPECT_FALSE(ParseSize("-1M").ok());
}

TEST(StringsTest, Split) {
  EXPECT_EQ(Split("a=b=c", '='), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(Split("", ','), (std::vector<std::string>{""}));
}

}  // namespace
}  // namespace vk
