// The controller's request server and the shared client, over a real unix
// socket: what `vk fleet` and the in-guest virtctl do, without a VM.
#include "fleet/request_server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "base/fd_io.h"
#include "base/unix_socket.h"
#include "proto/virtctl_client.h"

namespace vk::fleet {
namespace {

class RequestServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/vk-request-server-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/controller.sock";
  }
  void TearDown() override { ::rmdir(dir_.c_str()); }

  Result<proto::VirtctlReply> Ask(const proto::VirtctlRequest& request,
                                  std::string* logs = nullptr) {
    UniqueFd fd = VK_TRY(ConnectUnix(path_));
    return proto::ExchangeVirtctl(fd.get(), request, [&](std::string_view text) {
      if (logs != nullptr) logs->append(text);
    });
  }

  std::string dir_;
  std::string path_;
};

TEST_F(RequestServerTest, AnswersEachConnectionsRequest) {
  std::vector<proto::VirtctlRequest> seen;
  std::mutex mutex;
  auto server =
      RequestServer::Listen(path_, [&](const proto::VirtctlRequest& request, RequestStream& out) {
        {
          std::lock_guard lock(mutex);
          seen.push_back(request);
        }
        proto::VirtctlReply reply;
        reply.message = "did " + std::string(proto::VirtctlOpName(request.op)) + " " + request.unit;
        if (request.op == proto::VirtctlOp::kLogs) {
          (void)out.Send(proto::EncodeLogChunk("line one\n"));
          (void)out.Send(proto::EncodeLogChunk(std::string("\xff binary\0", 9)));
        }
        (void)out.Send(proto::EncodeVirtctlReply(reply));
      });
  ASSERT_TRUE(server.ok()) << server.error().message();
  auto stop = Ask({proto::VirtctlOp::kStop, "redis", false});
  ASSERT_TRUE(stop.ok()) << stop.error().message();
  EXPECT_EQ(stop->message, "did stop redis");
  std::string logs;
  auto read = Ask({proto::VirtctlOp::kLogs, "redis", true}, &logs);
  ASSERT_TRUE(read.ok()) << read.error().message();
  EXPECT_EQ(logs.substr(0, 9), "line one\n");
  EXPECT_GT(logs.size(), 9u);
  std::lock_guard lock(mutex);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_TRUE(seen[1].follow);
}

TEST_F(RequestServerTest, BadRequestsGetAnErrorReply) {
  auto server = RequestServer::Listen(path_, [](const proto::VirtctlRequest&, RequestStream& out) {
    (void)out.Send(proto::EncodeVirtctlReply({}));
  });
  ASSERT_TRUE(server.ok());
  auto fd = ConnectUnix(path_);
  ASSERT_TRUE(fd.ok());
  ASSERT_TRUE(WriteAll(fd->get(), "{\"op\":\"explode\"}\n").ok());
  auto line = ReadLineBefore(fd->get(), std::chrono::steady_clock::now() + std::chrono::seconds(10),
                             proto::kMaxVirtctlLine);
  ASSERT_TRUE(line.ok()) << line.error().message();
  auto reply = proto::DecodeVirtctlServerLine(*line);
  ASSERT_TRUE(reply.ok());
  auto* r = std::get_if<proto::VirtctlReply>(&*reply);
  ASSERT_NE(r, nullptr);
  EXPECT_FALSE(r->ok);
  EXPECT_NE(r->error.find("explode"), std::string::npos) << r->error;
}

// A `logs -f` stream ends when the server goes, and the server's
// destructor does not wait for the client to hang up.
TEST_F(RequestServerTest, DestructionEndsStreamingHandlers) {
  std::atomic<bool> streaming{false};
  auto server = RequestServer::Listen(path_, [&](const proto::VirtctlRequest&, RequestStream& out) {
    streaming = true;
    while (!out.Done()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  });
  ASSERT_TRUE(server.ok());
  auto fd = ConnectUnix(path_);
  ASSERT_TRUE(fd.ok());
  ASSERT_TRUE(
      WriteAll(fd->get(), proto::EncodeVirtctlRequest({proto::VirtctlOp::kLogs, "a", true})).ok());
  while (!streaming) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  server->reset();
  char byte;
  EXPECT_EQ(::read(fd->get(), &byte, 1), 0);    // closed, no reply
  EXPECT_NE(::access(path_.c_str(), F_OK), 0);  // the socket file is gone
}

}  // namespace
}  // namespace vk::fleet
