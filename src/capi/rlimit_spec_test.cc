#include "capi/rlimit_spec.h"

#include <gtest/gtest.h>

namespace vk::capi {
namespace {

TEST(RlimitSpecTest, ReadsEqualsAndColonForms) {
  auto nofile = ParseRlimit("7=1024:4096");
  ASSERT_TRUE(nofile.ok()) << nofile.error().message();
  EXPECT_EQ(nofile->resource, 7u);
  EXPECT_EQ(nofile->cur, 1024u);
  EXPECT_EQ(nofile->max, 4096u);
  auto colon = ParseRlimit("6:10:20");
  ASSERT_TRUE(colon.ok());
  EXPECT_EQ(colon->resource, 6u);
  EXPECT_EQ(colon->cur, 10u);
  EXPECT_EQ(colon->max, 20u);
}

TEST(RlimitSpecTest, UnlimitedIsTheLargestU64) {
  auto core = ParseRlimit("4=18446744073709551615:18446744073709551615");
  ASSERT_TRUE(core.ok());
  EXPECT_EQ(core->cur, UINT64_MAX);
  EXPECT_EQ(core->max, UINT64_MAX);
  EXPECT_TRUE(ParseRlimit("15=0:0").ok());
}

TEST(RlimitSpecTest, RefusesMalformedEntriesWithEinval) {
  for (const char* text :
       {"", "7", "7=", "7=1", "7=1:", "=1:2", "x=1:2", "7=a:2", "7=1:b", "7=-1:2", "7=+1:2",
        " 7=1:2", "7=1:2 ", "7=1:2:3", "16=1:2", "99999999999999999999=1:2",
        "7=18446744073709551616:1", "7=5:4", "RLIMIT_NOFILE=1:2"}) {
    auto parsed = ParseRlimit(text);
    ASSERT_FALSE(parsed.ok()) << "'" << text << "'";
    EXPECT_EQ(parsed.error().errno_value(), EINVAL);
    EXPECT_NE(parsed.error().message().find("RESOURCE=CUR:MAX"), std::string::npos);
  }
}

}  // namespace
}  // namespace vk::capi
