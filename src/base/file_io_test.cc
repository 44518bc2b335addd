#include "base/file_io.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "base/remove_tree.h"

namespace vk {
namespace {

class UserOutputFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/vk-file-io-test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { (void)RemoveTreeWithin("/tmp", dir_); }

  static mode_t ModeOf(const std::string& path) {
    struct stat st {};
    ::stat(path.c_str(), &st);
    return st.st_mode & 07777;
  }
  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::string dir_;
};

TEST_F(UserOutputFileTest, ANewFileIsPrivate) {
  mode_t old = ::umask(0);
  auto fd = OpenUserOutputFile(dir_ + "/console.log", false);
  ::umask(old);
  ASSERT_TRUE(fd.ok()) << fd.error().message();
  EXPECT_EQ(ModeOf(dir_ + "/console.log"), 0600u);
}

// Seen: `vk launch --console /dev/null` as root left /dev/null 0600, and
// every other user's writes to it failed.
TEST_F(UserOutputFileTest, AnExistingFileKeepsItsModeAndIsTruncatedOrAppended) {
  std::string path = dir_ + "/shared.log";
  std::ofstream(path) << "old text\n";
  ::chmod(path.c_str(), 0644);
  {
    auto fd = OpenUserOutputFile(path, /*append=*/true);
    ASSERT_TRUE(fd.ok()) << fd.error().message();
    ASSERT_EQ(::write(fd->get(), "more\n", 5), 5);
  }
  EXPECT_EQ(Read(path), "old text\nmore\n");
  EXPECT_EQ(ModeOf(path), 0644u);
  {
    auto fd = OpenUserOutputFile(path, /*append=*/false);
    ASSERT_TRUE(fd.ok()) << fd.error().message();
  }
  EXPECT_EQ(Read(path), "");
  EXPECT_EQ(ModeOf(path), 0644u);
}

TEST_F(UserOutputFileTest, DevicesAndSymlinksAreWrittenAsTheyAre) {
  mode_t null_mode = ModeOf("/dev/null");
  auto null = OpenUserOutputFile("/dev/null", false);
  ASSERT_TRUE(null.ok()) << null.error().message();
  EXPECT_EQ(ModeOf("/dev/null"), null_mode);
  std::string target = dir_ + "/target", link = dir_ + "/link";
  std::ofstream(target) << "x";
  ::chmod(target.c_str(), 0640);
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  auto through_link = OpenUserOutputFile(link, false);
  ASSERT_TRUE(through_link.ok()) << through_link.error().message();
  EXPECT_EQ(ModeOf(target), 0640u);
}

TEST_F(UserOutputFileTest, AMissingDirectoryIsAnErrorNamingThePath) {
  auto fd = OpenUserOutputFile(dir_ + "/no/such/dir/console.log", false);
  ASSERT_FALSE(fd.ok());
  EXPECT_NE(fd.error().message().find("no/such/dir"), std::string::npos);
}

}  // namespace
}  // namespace vk
