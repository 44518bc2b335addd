#include "agent/template_assignment.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "agent/exec_listener.h"
#include "base/remove_tree.h"
#include "base/unix_socket.h"

namespace vk::agent {
namespace {

proto::Assignment SampleAssignment(std::string params =
                                       "vk.root=/dev/vda vk.serve=4444 "
                                       "vk.hostname=web vk.net=dhcp") {
  proto::Assignment assignment;
  assignment.params = std::move(params);
  assignment.entropy.assign(32, 0x42);
  assignment.wall_clock_ns = 1'700'000'000'000'000'000ull;
  assignment.mac = {0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc};
  return assignment;
}

// The host's end of one connection, and a fake machine that records what
// it was asked to apply (AF_UNIX stands in for vsock).
class TemplateConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    agent_.Reset(fds[0]);
    host_.Reset(fds[1]);
  }

  void HostSends(std::span<const uint8_t> bytes) {
    ASSERT_EQ(::send(host_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }

  // Everything the agent sent (the agent's end is closed first).
  std::string HostReceives() {
    agent_.Reset();
    std::string text;
    char buffer[256];
    ssize_t n;
    while ((n = ::recv(host_.get(), buffer, sizeof(buffer), 0)) > 0) text.append(buffer, n);
    return text;
  }

  TemplateConnectionResult Serve() {
    return ServeTemplateConnection(agent_.get(), template_params_, apply_);
  }

  InitParams template_params_;
  int applied_ = 0;
  proto::Assignment applied_assignment_;
  Result<void> apply_result_ = Ok();
  ApplyAssignmentFn apply_ = [this](const proto::Assignment& assignment, const InitParams&) {
    ++applied_;
    applied_assignment_ = assignment;
    return apply_result_;
  };
  UniqueFd agent_;
  UniqueFd host_;
};

TEST_F(TemplateConnectionTest, ValidAssignmentIsAppliedAndAcknowledged) {
  template_params_.pvm = true;  // the template's vk.pvm=1 carries over
  HostSends(proto::EncodeAssignment(SampleAssignment()));
  auto served = Serve();
  ASSERT_EQ(served.outcome, TemplateOutcome::kAssigned) << served.message;
  EXPECT_EQ(served.params.root, "/dev/vda");
  EXPECT_EQ(served.params.serve_port, 4444u);
  EXPECT_EQ(served.params.hostname, "web");
  EXPECT_TRUE(served.params.net.has_value());
  EXPECT_TRUE(served.params.pvm);
  EXPECT_FALSE(served.params.template_port.has_value());
  EXPECT_EQ(applied_, 1);
  EXPECT_EQ(applied_assignment_.mac, SampleAssignment().mac);
  EXPECT_EQ(applied_assignment_.wall_clock_ns, SampleAssignment().wall_clock_ns);
  EXPECT_EQ(HostReceives(), "VK-TEMPLATE-READY\nOK\n");
}

// A restore resets the connection the template waited on: at any byte of
// the frame, the agent accepts again instead of failing the boot.
TEST_F(TemplateConnectionTest, ConnectionEndingMidFrameIsARetry) {
  const auto frame = proto::EncodeAssignment(SampleAssignment());
  for (size_t cut = 0; cut < frame.size(); ++cut) {
    SetUp();
    HostSends(std::span(frame).first(cut));
    ASSERT_EQ(::shutdown(host_.get(), SHUT_WR), 0);
    auto served = Serve();
    EXPECT_EQ(served.outcome, TemplateOutcome::kDropped) << "cut at " << cut;
    EXPECT_EQ(HostReceives(), "VK-TEMPLATE-READY\n");  // no ERR, no OK
  }
  EXPECT_EQ(applied_, 0);
}

TEST_F(TemplateConnectionTest, ResetConnectionIsARetry) {
  const auto frame = proto::EncodeAssignment(SampleAssignment());
  HostSends(std::span(frame).first(10));
  // The host closes with "READY" unread: the agent's next read fails with
  // ECONNRESET, as it does when a restore resets a vsock connection.
  std::thread host([&] {
    pollfd ready{host_.get(), POLLIN, 0};
    EXPECT_EQ(::poll(&ready, 1, 5000), 1);
    host_.Reset();
  });
  auto served = Serve();
  host.join();
  EXPECT_EQ(served.outcome, TemplateOutcome::kDropped);
  EXPECT_NE(served.message.find("Connection reset"), std::string::npos) << served.message;
  EXPECT_EQ(served.message.rfind("read the assignment", 0), 0u) << served.message;
  EXPECT_EQ(applied_, 0);
}

void ExpectRefused(const TemplateConnectionResult& served, const std::string& reply,
                   const std::string& why) {
  EXPECT_EQ(served.outcome, TemplateOutcome::kRefused);
  EXPECT_NE(served.message.find(why), std::string::npos) << served.message;
  EXPECT_EQ(reply.rfind("VK-TEMPLATE-READY\nERR ", 0), 0u) << reply;
  EXPECT_NE(reply.find(why), std::string::npos) << reply;
  EXPECT_EQ(reply.back(), '\n');
  EXPECT_EQ(std::count(reply.begin(), reply.end(), '\n'), 2) << reply;
}

TEST_F(TemplateConnectionTest, MalformedRecordIsRefused) {
  auto frame = proto::EncodeAssignment(SampleAssignment());
  frame[4] = 'X';  // the record's tag
  HostSends(frame);
  auto served = Serve();
  ExpectRefused(served, HostReceives(), "expected a 'asgn' record");
  EXPECT_EQ(applied_, 0);
}

TEST_F(TemplateConnectionTest, OversizedLengthIsRefused) {
  const uint8_t header[4] = {0xff, 0xff, 0xff, 0x7f};
  HostSends(header);
  auto served = Serve();
  ExpectRefused(served, HostReceives(), "assignment of 2147483647 bytes");
}

TEST_F(TemplateConnectionTest, TooLittleEntropyIsRefused) {
  auto assignment = SampleAssignment();
  assignment.entropy.resize(16);
  HostSends(proto::EncodeAssignment(assignment));
  auto served = Serve();
  ExpectRefused(served, HostReceives(), "entropy is 16 bytes");
  EXPECT_EQ(applied_, 0);
}

TEST_F(TemplateConnectionTest, BadParamsAreRefused) {
  HostSends(proto::EncodeAssignment(SampleAssignment("vk.root=/dev/vda vk.port=abc")));
  auto served = Serve();
  ExpectRefused(served, HostReceives(), "vk.port=abc is not a port");
  SetUp();
  HostSends(proto::EncodeAssignment(SampleAssignment("vk.template=1023")));
  served = Serve();
  ExpectRefused(served, HostReceives(), "vk.template is not per-VM");
  EXPECT_EQ(applied_, 0);
}

TEST_F(TemplateConnectionTest, FailureToApplyIsRefusedOnOneLine) {
  apply_result_ = Error("disk /dev/vda not ready\nafter 10000 ms");
  HostSends(proto::EncodeAssignment(SampleAssignment()));
  auto served = Serve();
  ExpectRefused(served, HostReceives(), "disk /dev/vda not ready");
  EXPECT_EQ(applied_, 1);
}

// The loop: a dropped connection and a refused one are followed by the
// real assignment, which ends the loop.
TEST(AwaitAssignmentTest, AcceptsAgainUntilAssigned) {
  char dir[] = "/tmp/vk-template.XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  auto listener = ListenUnix(std::string(dir) + "/t.sock");
  ASSERT_TRUE(listener.ok()) << listener.error().message();
  auto connect_and_send = [&](std::span<const uint8_t> bytes) {
    auto client = ConnectUnix(std::string(dir) + "/t.sock");
    EXPECT_TRUE(client.ok());
    EXPECT_EQ(::send(client->get(), bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
    return std::move(*client);
  };
  const auto valid = proto::EncodeAssignment(SampleAssignment());
  auto bad = proto::EncodeAssignment(SampleAssignment("vk.ro=maybe"));
  { UniqueFd dropped = connect_and_send(std::span(valid).first(20)); }
  UniqueFd refused = connect_and_send(bad);
  UniqueFd assigned = connect_and_send(valid);
  int applied = 0;
  ::alarm(10);  // a loop that does not end fails the test instead of hanging it
  InitParams params = AwaitAssignment(listener->get(), InitParams{},
                                      [&](const proto::Assignment&, const InitParams& p) {
                                        ++applied;
                                        EXPECT_EQ(p.hostname, "web");
                                        return Result<void>(Ok());
                                      });
  ::alarm(0);
  EXPECT_EQ(params.hostname, "web");
  EXPECT_EQ(applied, 1);
  char reply[64] = {};
  EXPECT_GT(::recv(refused.get(), reply, sizeof(reply) - 1, 0), 0);
  EXPECT_EQ(std::string(reply).rfind("VK-TEMPLATE-READY\n", 0), 0u);
  (void)RemoveTreeWithin("/tmp", dir);
}

}  // namespace
}  // namespace vk::agent
