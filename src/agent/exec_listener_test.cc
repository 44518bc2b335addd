#include "agent/exec_listener.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "base/testing/fd_testing.h"
#include "base/unix_socket.h"

namespace vk::agent {
namespace {

sockaddr_vm Peer(unsigned cid, unsigned port = 1234) {
  sockaddr_vm peer{};
  peer.svm_family = AF_VSOCK;
  peer.svm_cid = cid;
  peer.svm_port = port;
  return peer;
}

TEST(IsHostPeerTest, OnlyTheHostCid) {
  EXPECT_TRUE(IsHostPeer(Peer(VMADDR_CID_HOST)));
  EXPECT_FALSE(IsHostPeer(Peer(VMADDR_CID_LOCAL)));  // vsock loopback in the guest
  EXPECT_FALSE(IsHostPeer(Peer(3)));                 // the guest's own CID
  EXPECT_FALSE(IsHostPeer(Peer(VMADDR_CID_HYPERVISOR)));
  EXPECT_FALSE(IsHostPeer(Peer(VMADDR_CID_ANY)));
  sockaddr_vm wrong_family = Peer(VMADDR_CID_HOST);
  wrong_family.svm_family = AF_UNIX;
  EXPECT_FALSE(IsHostPeer(wrong_family));
}

class AcceptFromHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/vk-agent-listen.XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    auto listener = ListenUnix(dir_ + "/exec.sock");
    ASSERT_TRUE(listener.ok()) << listener.error().message();
    listener_ = std::move(*listener);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
  UniqueFd listener_;
};

TEST_F(AcceptFromHostTest, AcceptsItsOwnUidOnAUnixSocket) {
  auto client = ConnectUnix(dir_ + "/exec.sock");
  ASSERT_TRUE(client.ok());
  UniqueFd connection = AcceptFromHost(listener_.get());
  EXPECT_TRUE(connection);
}

TEST_F(AcceptFromHostTest, RefusesAnotherUid) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to connect as another uid";
  // The socket is 0600; let the other uid reach it to show the peer check.
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  ASSERT_EQ(::chmod((dir_ + "/exec.sock").c_str(), 0666), 0);
  pid_t child = testing::ConnectAsNobody(dir_ + "/exec.sock");
  UniqueFd connection = AcceptFromHost(listener_.get());
  EXPECT_FALSE(connection);
  connection.Reset();  // (a regression must fail here, not hang the wait below)
  EXPECT_TRUE(testing::WaitExitedZero(child));  // the agent closed it: EOF, not a session
}

TEST_F(AcceptFromHostTest, OutOfFdsWaitsInsteadOfSpinning) {
  auto client = ConnectUnix(dir_ + "/exec.sock");
  ASSERT_TRUE(client.ok());
  // In a child, so the lowered limit and the filled fd table stay there.
  pid_t child = ::fork();
  if (child == 0) {
    if (!testing::SetFdLimit(64)) ::_exit(2);
    while (::dup(listener_.get()) >= 0) {
    }
    auto start = std::chrono::steady_clock::now();
    int accepted = 0;
    for (int i = 0; i < 3; ++i) accepted += AcceptFromHost(listener_.get()) ? 1 : 0;
    auto elapsed = std::chrono::steady_clock::now() - start;
    // Three EMFILE failures took three back-offs (a spinning loop: microseconds).
    ::_exit(accepted == 0 && elapsed >= std::chrono::milliseconds(250) ? 0 : 1);
  }
  EXPECT_TRUE(testing::WaitExitedZero(child));
  // The connection was left queued: with fds to spare it is accepted.
  EXPECT_TRUE(AcceptFromHost(listener_.get()));
}

}  // namespace
}  // namespace vk::agent
