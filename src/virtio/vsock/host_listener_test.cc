#include "virtio/vsock/host_listener.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <vector>

#include "base/testing/fd_testing.h"
#include "base/unix_socket.h"

namespace vk::virtio::vsock {
namespace {

using namespace std::chrono_literals;

class HostListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/vk-host-listener.XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/v.sock";
    loop_ = std::move(EventLoop::Create().value());
  }
  void TearDown() override {
    listener_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Start(HostListener::AcceptFn accept = nullptr) {
    auto listener = HostListener::Create(
        loop_.get(), &lock_, path_,
        [this](UniqueFd client) { clients_.push_back(std::move(client)); }, std::move(accept));
    ASSERT_TRUE(listener.ok()) << listener.error().message();
    listener_ = std::move(*listener);
  }
  // Runs the loop for about `duration`.
  void RunFor(std::chrono::milliseconds duration) {
    auto end = std::chrono::steady_clock::now() + duration;
    while (std::chrono::steady_clock::now() < end) ASSERT_TRUE(loop_->RunOnce(10).ok());
  }

  std::string dir_, path_;
  std::unique_ptr<EventLoop> loop_;
  std::mutex lock_;
  std::shared_ptr<HostListener> listener_;
  std::vector<UniqueFd> clients_;
};

TEST_F(HostListenerTest, AcceptsOwnerConnectionsOnA0600Socket) {
  Start();
  struct stat st;
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto client = ConnectUnix(path_);
  ASSERT_TRUE(client.ok());
  RunFor(50ms);
  EXPECT_EQ(clients_.size(), 1u);
  listener_.reset();
  EXPECT_FALSE(std::filesystem::exists(path_));  // removed with the listener
}

TEST_F(HostListenerTest, OutOfFdsPausesTheListenerInsteadOfSpinning) {
  int calls = 0;
  bool out_of_fds = true;
  Start([&](int listener) {
    ++calls;
    if (!out_of_fds) return ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    errno = EMFILE;
    return -1;
  });
  auto client = ConnectUnix(path_);  // stays queued: the listener stays readable
  ASSERT_TRUE(client.ok());
  RunFor(350ms);
  // One attempt per back-off (about 4 in 350 ms); a level-triggered spin
  // makes many thousands.
  EXPECT_GE(calls, 2);
  EXPECT_LE(calls, 8);
  EXPECT_TRUE(clients_.empty());
  // Fds free again: the queued connection is taken at the next retry.
  out_of_fds = false;
  RunFor(250ms);
  EXPECT_EQ(clients_.size(), 1u);
  EXPECT_FALSE(listener_->paused());
}

TEST_F(HostListenerTest, RefusesOtherUsers) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to connect as another uid";
  Start();
  // Let the other uid reach the 0600 socket, to show the peer check itself.
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(path_.c_str(), 0666), 0);
  pid_t child = vk::testing::ConnectAsNobody(path_);
  int status = 0;
  for (int i = 0; i < 100 && ::waitpid(child, &status, WNOHANG) == 0; ++i) RunFor(20ms);
  EXPECT_TRUE(vk::testing::ExitedZero(status)) << status;  // closed on it: EOF
  EXPECT_TRUE(clients_.empty());
}

}  // namespace
}  // namespace vk::virtio::vsock
