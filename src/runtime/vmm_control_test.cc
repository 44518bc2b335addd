// The VMM control socket (vmm.sock): request and reply lines, and the server
// against a handler without a VM.
#include "runtime/vmm_control.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <vector>

#include "base/remove_tree.h"
#include "base/unix_socket.h"

namespace vk {
namespace {

using ::testing::HasSubstr;

TEST(VmmRequest, ParsesTheKnownRequests) {
  auto plain = ParseVmmRequest("checkpoint");
  ASSERT_TRUE(plain.ok()) << plain.error().message();
  EXPECT_EQ(plain->kind, VmmRequest::Kind::kCheckpoint);
  EXPECT_FALSE(plain->leave_running);
  auto leave = ParseVmmRequest("checkpoint leave-running");
  ASSERT_TRUE(leave.ok());
  EXPECT_TRUE(leave->leave_running);
  for (const VmmRequest& request : {*plain, *leave}) {
    std::string line = FormatVmmRequest(request);
    ASSERT_EQ(line.back(), '\n');
    auto again = ParseVmmRequest(line.substr(0, line.size() - 1));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->leave_running, request.leave_running);
  }
}

TEST(VmmRequest, RefusesAnythingElse) {
  const std::vector<std::string_view> refused = {"",
                                                 "checkpoint ",
                                                 " checkpoint",
                                                 "CHECKPOINT",
                                                 "checkpoint leave-running now",
                                                 "checkpoint --leave-running",
                                                 "restore",
                                                 "checkpoint\r",
                                                 std::string_view("check\0point", 11)};
  for (std::string_view bad : refused) {
    auto parsed = ParseVmmRequest(bad);
    EXPECT_FALSE(parsed.ok()) << "accepted \"" << bad << "\"";
  }
  auto unknown = ParseVmmRequest("reboot\x01");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.error().message(), HasSubstr("reboot?"));  // control bytes not echoed
}

TEST(VmmReply, CarriesTextOrError) {
  auto ok = ParseVmmReply("ok /run/vms/web/checkpoint");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, "/run/vms/web/checkpoint");
  auto error = ParseVmmReply("error: a share is mounted");
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.error().message(), "a share is mounted");
  EXPECT_FALSE(ParseVmmReply("okay").ok());
  EXPECT_FALSE(ParseVmmReply("").ok());
  // A message with newlines still makes one line.
  std::string line = FormatVmmReply(Result<std::string>(Error("two\nlines")));
  EXPECT_EQ(line, "error: two lines\n");
  EXPECT_EQ(FormatVmmReply(std::string("/x")), "ok /x\n");
}

class VmmControlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/vk-vmm-control-test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    socket_ = dir_ + "/vmm.sock";
  }
  void TearDown() override { (void)RemoveTreeWithin("/tmp", dir_); }

  // Sends raw bytes and closes our side, then reads the reply until the
  // server closes.
  std::string Exchange(std::string_view bytes) {
    auto fd = ConnectUnix(socket_);
    EXPECT_TRUE(fd.ok());
    if (!fd.ok()) return "";
    EXPECT_EQ(::send(fd->get(), bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
    ::shutdown(fd->get(), SHUT_WR);  // all we send
    std::string reply;
    char buffer[256];
    for (ssize_t got; (got = ::recv(fd->get(), buffer, sizeof(buffer), 0)) > 0;) {
      reply.append(buffer, static_cast<size_t>(got));
    }
    return reply;
  }

  std::string dir_;
  std::string socket_;
};

TEST_F(VmmControlServerTest, ServesRequestsOneByOneAndRemovesItsSocket) {
  std::atomic<int> calls{0};
  std::atomic<bool> last_leave_running{false};
  {
    auto server = VmmControlServer::Start(socket_, [&](const VmmRequest& request) {
      ++calls;
      last_leave_running = request.leave_running;
      return Result<std::string>(dir_ + "/checkpoint");
    });
    ASSERT_TRUE(server.ok()) << server.error().message();
    struct stat st {};
    ASSERT_EQ(::stat(socket_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << "the socket must be private";

    auto reply = SendVmmRequest(socket_, VmmRequest{}, std::chrono::seconds(5));
    ASSERT_TRUE(reply.ok()) << reply.error().message();
    EXPECT_EQ(*reply, dir_ + "/checkpoint");
    EXPECT_FALSE(last_leave_running);
    VmmRequest leave;
    leave.leave_running = true;
    ASSERT_TRUE(SendVmmRequest(socket_, leave, std::chrono::seconds(5)).ok());
    EXPECT_TRUE(last_leave_running);
    EXPECT_EQ(calls, 2);
  }
  EXPECT_NE(::access(socket_.c_str(), F_OK), 0) << "the socket outlived its server";
}

TEST_F(VmmControlServerTest, BadRequestsAreAnsweredWithAnErrorAndNotRun) {
  std::atomic<int> calls{0};
  auto server = VmmControlServer::Start(socket_, [&](const VmmRequest&) {
    ++calls;
    return Result<std::string>(std::string("done"));
  });
  ASSERT_TRUE(server.ok()) << server.error().message();
  EXPECT_THAT(Exchange("format-disk\n"), HasSubstr("error: unknown request"));
  EXPECT_THAT(Exchange(std::string(1000, 'x')), HasSubstr("error: bad request"));
  EXPECT_THAT(Exchange("checkpoint"), HasSubstr("error: bad request"));  // closed before '\n'
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(Exchange("checkpoint\n"), "ok done\n");  // still serving
  EXPECT_EQ(calls, 1);
}

TEST_F(VmmControlServerTest, AHandlerErrorReachesTheClient) {
  auto server = VmmControlServer::Start(socket_, [](const VmmRequest&) -> Result<std::string> {
    return Error("virtio-fs: a share is mounted");
  });
  ASSERT_TRUE(server.ok());
  auto reply = SendVmmRequest(socket_, VmmRequest{}, std::chrono::seconds(5));
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().message(), "virtio-fs: a share is mounted");
}

}  // namespace
}  // namespace vk
