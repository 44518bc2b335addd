#include "agent/user_db.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace vk::agent {
namespace {

constexpr char kPasswd[] =
    "root:x:0:0:root:/root:/bin/sh\n"
    "# comment\n"
    "broken line\n"
    "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    "bad:x:notanumber:1:x:/bad:/bin/sh\n";
constexpr char kGroup[] =
    "root:x:0:\n"
    "wheel:x:10:alice,bob\n"
    "alice:x:1000:\n"
    "docker:x:999:bob,alice\n"
    "nogroup:x:65534:\n";

TEST(UserDbTest, ResolvesNameWithSupplementaryGroups) {
  auto user = ResolveUser("alice", kPasswd, kGroup);
  ASSERT_TRUE(user.ok()) << user.error().message();
  EXPECT_EQ(user->uid, 1000u);
  EXPECT_EQ(user->gid, 1000u);
  EXPECT_EQ(user->home, "/home/alice");
  EXPECT_EQ(user->groups, (std::vector<gid_t>{1000, 10, 999}));
}

TEST(UserDbTest, ResolvesNumericIds) {
  auto known = ResolveUser("65534:65534", kPasswd, kGroup);
  ASSERT_TRUE(known.ok());
  EXPECT_EQ(known->uid, 65534u);
  EXPECT_EQ(known->gid, 65534u);
  EXPECT_EQ(known->home, "/nonexistent");
  auto unknown = ResolveUser("4321", kPasswd, kGroup);  // Docker: gid 0, home /
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->uid, 4321u);
  EXPECT_EQ(unknown->gid, 0u);
  EXPECT_EQ(unknown->home, "/");
  EXPECT_EQ(unknown->groups, (std::vector<gid_t>{0}));
}

TEST(UserDbTest, ResolvesGroupNames) {
  auto user = ResolveUser("alice:docker", kPasswd, kGroup);
  ASSERT_TRUE(user.ok());
  EXPECT_EQ(user->gid, 999u);
  EXPECT_EQ(user->groups.front(), 999u);
}

TEST(UserDbTest, EmptySpecIsTheCurrentUser) {
  auto user = ResolveUser("", kPasswd, kGroup);
  ASSERT_TRUE(user.ok());
  EXPECT_EQ(user->uid, getuid());
}

TEST(UserDbTest, UnknownNamesAreErrors) {
  auto user = ResolveUser("mallory", kPasswd, kGroup);
  ASSERT_FALSE(user.ok());
  EXPECT_NE(user.error().message().find("unable to find user mallory"), std::string::npos);
  EXPECT_FALSE(ResolveUser("alice:nosuchgroup", kPasswd, kGroup).ok());
  EXPECT_FALSE(ResolveUser(":10", kPasswd, kGroup).ok());
  EXPECT_FALSE(ResolveUser("alice:", kPasswd, kGroup).ok());
  EXPECT_FALSE(ResolveUser("4294967295", kPasswd, kGroup).ok());  // (uid_t)-1
}

}  // namespace
}  // namespace vk::agent
