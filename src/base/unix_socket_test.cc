#include "base/unix_socket.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "base/remove_tree.h"

namespace vk {
namespace {

class UnixSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "vk-sock-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    (void)RemoveTreeWithin(std::filesystem::path(dir_).parent_path(), dir_);
  }
  std::string dir_;
};

TEST_F(UnixSocketTest, PathLongerThanSunPathIsAnErrorNotATruncation) {
  std::string path = dir_ + "/" + std::string(200, 's');
  auto listener = ListenUnix(path);
  ASSERT_FALSE(listener.ok());
  EXPECT_NE(listener.error().message().find("longer than"), std::string::npos);
  EXPECT_FALSE(ConnectUnix(path).ok());
}

TEST_F(UnixSocketTest, SocketIsPrivateWhateverTheUmask) {
  mode_t old = ::umask(0);
  auto listener = ListenUnix(dir_ + "/a.sock");
  ::umask(old);
  ASSERT_TRUE(listener.ok()) << listener.error().message();
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/a.sock").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(UnixSocketTest, SameUserPeerIsAccepted) {
  auto listener = ListenUnix(dir_ + "/a.sock");
  ASSERT_TRUE(listener.ok());
  auto client = ConnectUnix(dir_ + "/a.sock");
  ASSERT_TRUE(client.ok());
  UniqueFd server(::accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(server);
  EXPECT_TRUE(CheckPeerIsOwner(server.get()).ok());
  EXPECT_EQ(*PeerUid(server.get()), ::getuid());
}

// Another local user: a child that drops to `nobody` connects through a
// world-accessible copy of the directory; the check refuses it.
TEST_F(UnixSocketTest, OtherUserPeerIsRefused) {
  if (::getuid() != 0) GTEST_SKIP() << "needs root to act as a second local user";
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  std::string path = dir_ + "/a.sock";
  auto listener = ListenUnix(path);
  ASSERT_TRUE(listener.ok());
  ASSERT_EQ(::chmod(path.c_str(), 0666), 0);  // only the uid check stands in the way
  pid_t child = ::fork();
  if (child == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
    auto client = ConnectUnix(path);
    if (!client.ok()) ::_exit(3);
    char byte;
    ::_exit(::read(client->get(), &byte, 1) == 0 ? 0 : 4);  // server closes
  }
  UniqueFd server(::accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(server);
  auto checked = CheckPeerIsOwner(server.get());
  EXPECT_FALSE(checked.ok());
  if (!checked.ok()) EXPECT_NE(checked.error().message().find("uid 65534"), std::string::npos);
  server.Reset();
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace vk
