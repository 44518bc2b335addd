#include "base/names.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vk {
namespace {

TEST(Names, PathLikeNamesAreRefused) {
  for (const std::string& bad : std::vector<std::string>{
           "", ".", "..", "../../../..", "a/b", "/abs", "-flag", ".hidden", "a b", "a\nb",
           std::string("a\0b", 3), std::string(64, 'a'), "caf\xc3\xa9", "_x"}) {
    EXPECT_FALSE(CheckName(bad, NameKind::kVm).ok()) << bad;
  }
}

TEST(Names, OrdinaryNamesPass) {
  for (const std::string& good :
       std::vector<std::string>{"web", "vm-1a2b3c", "db_1", "a.b", "A", std::string(63, 'z')}) {
    EXPECT_TRUE(CheckName(good, NameKind::kVm).ok()) << good;
  }
}

TEST(Names, ErrorNamesTheKindAndTheRule) {
  auto checked = CheckName("..", NameKind::kFleet);
  ASSERT_FALSE(checked.ok());
  EXPECT_NE(checked.error().message().find("invalid fleet name '..'"), std::string::npos);
}

TEST(Names, HostnamesFollowRfc1123) {
  for (const std::string& good :
       std::vector<std::string>{"web", "web-1", "a.b.c", "x1", std::string(63, 'h')}) {
    EXPECT_TRUE(CheckHostname(good).ok()) << good;
  }
  for (const std::string& bad :
       std::vector<std::string>{"", "a b", "a init=/bin/sh", "-a", "a-", "a..b", ".a", "a.", "a_b",
                                std::string(64, 'h'), "x\tvk.root=/dev/vdb"}) {
    EXPECT_FALSE(CheckHostname(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace vk
