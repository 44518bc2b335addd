#include "base/private_dir.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "base/remove_tree.h"

namespace vk {
namespace {

namespace fs = std::filesystem;

class PrivateDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "vk-priv-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    top_ = pattern;
  }
  void TearDown() override { (void)RemoveTreeWithin(fs::path(top_).parent_path(), top_); }
  static mode_t ModeOf(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
  }
  std::string top_;
};

TEST_F(PrivateDirTest, CreatedDirectoriesAre0700WhateverTheUmask) {
  mode_t old = ::umask(0);
  auto made = EnsurePrivateDirectory(top_ + "/a/b/c");
  ::umask(old);
  ASSERT_TRUE(made.ok()) << made.error().message();
  for (const char* sub : {"/a", "/a/b", "/a/b/c"}) EXPECT_EQ(ModeOf(top_ + sub), 0700u) << sub;
}

TEST_F(PrivateDirTest, WritableByOthersIsRefusedWithTheFix) {
  fs::create_directories(top_ + "/shared");
  ::chmod((top_ + "/shared").c_str(), 0777);
  auto checked = EnsurePrivateDirectory(top_ + "/shared");
  ASSERT_FALSE(checked.ok());
  EXPECT_NE(checked.error().message().find("chmod go-w"), std::string::npos);
}

TEST_F(PrivateDirTest, OwnedByAnotherUserIsRefused) {
  if (::getuid() != 0) GTEST_SKIP() << "needs root to give a directory to another user";
  fs::create_directories(top_ + "/theirs");
  ASSERT_EQ(::chown((top_ + "/theirs").c_str(), 65534, 65534), 0);
  ::chmod((top_ + "/theirs").c_str(), 0700);
  auto checked = EnsurePrivateDirectory(top_ + "/theirs");
  ASSERT_FALSE(checked.ok());
  EXPECT_NE(checked.error().message().find("uid 65534"), std::string::npos);
}

TEST_F(PrivateDirTest, NoHomeIsAnErrorNotTmp) {
  std::string home = std::getenv("HOME") ? std::getenv("HOME") : "";
  std::string vk_home = std::getenv("VIRTKIT_HOME") ? std::getenv("VIRTKIT_HOME") : "";
  ::unsetenv("HOME");
  ::unsetenv("VIRTKIT_HOME");
  auto data = DataDirectory();
  if (!home.empty()) ::setenv("HOME", home.c_str(), 1);
  if (!vk_home.empty()) ::setenv("VIRTKIT_HOME", vk_home.c_str(), 1);
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.error().message().find("HOME"), std::string::npos);
}

TEST_F(PrivateDirTest, ExistingDirectoryIsReportedByCreate) {
  ASSERT_TRUE(CreatePrivateDirectory(top_ + "/vm").ok());
  auto again = CreatePrivateDirectory(top_ + "/vm");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().errno_value(), EEXIST);
}

}  // namespace
}  // namespace vk

namespace vk {
namespace {

TEST_F(PrivateDirTest, FilesAre0600WhateverTheUmask) {
  mode_t old = ::umask(0);
  auto written = WritePrivateFile(top_ + "/vm.json", "{}");
  auto log = OpenPrivateFile(top_ + "/vm.log", O_APPEND);
  ::umask(old);
  ASSERT_TRUE(written.ok());
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(ModeOf(top_ + "/vm.json"), 0600u);
  EXPECT_EQ(ModeOf(top_ + "/vm.log"), 0600u);
}

TEST_F(PrivateDirTest, PrivateFileIsNeverOpenedThroughASymlink) {
  fs::create_symlink(top_ + "/elsewhere", top_ + "/vm.log");
  EXPECT_FALSE(OpenPrivateFile(top_ + "/vm.log", O_APPEND).ok());
  EXPECT_FALSE(fs::exists(top_ + "/elsewhere"));
}

}  // namespace
}  // namespace vk
