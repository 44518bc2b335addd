// Host side of warm templates without a VM: the template key and the
// assignment exchange against a fake agent behind a fake vsock socket (the
// Firecracker-style "CONNECT <port>\n" / "OK <n>\n" handshake the VMM's
// vsock device speaks).
#include "runtime/warm_template.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "base/remove_tree.h"
#include "base/unix_socket.h"

namespace vk {
namespace {

std::string ReadLineFrom(int fd) {
  std::string line;
  char c;
  while (::recv(fd, &c, 1, 0) == 1) {
    line += c;
    if (c == '\n') break;
  }
  return line;
}

void SendText(int fd, std::string_view text) {
  ASSERT_EQ(::send(fd, text.data(), text.size(), MSG_NOSIGNAL), static_cast<ssize_t>(text.size()));
}

class WarmTemplateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/vk-template-test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    socket_ = dir_ + "/vsock.sock";
    auto listener = ListenUnix(socket_, 8);
    ASSERT_TRUE(listener.ok()) << listener.error().message();
    listener_ = std::move(*listener);
  }
  void TearDown() override {
    if (agent_.joinable()) agent_.join();
    (void)RemoveTreeWithin("/tmp", dir_);
  }

  // Accepts one host connection and answers the CONNECT handshake.
  UniqueFd AcceptConnect() {
    UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    EXPECT_TRUE(fd.valid());
    EXPECT_EQ(ReadLineFrom(fd.get()), "CONNECT " + std::to_string(kTemplatePort) + "\n");
    SendText(fd.get(), "OK 1024\n");
    return fd;
  }
  // Reads one assignment frame; returns it decoded.
  static Result<proto::Assignment> ReadAssignment(int fd) {
    uint8_t header[proto::kAssignmentHeaderSize];
    if (::recv(fd, header, sizeof(header), MSG_WAITALL) != sizeof(header)) {
      return Error("no frame");
    }
    uint32_t length = VK_TRY(proto::DecodeAssignmentLength(header));
    std::vector<uint8_t> record(length);
    if (::recv(fd, record.data(), length, MSG_WAITALL) != static_cast<ssize_t>(length)) {
      return Error("short frame");
    }
    return proto::DecodeAssignment(record);
  }

  std::string dir_, socket_;
  UniqueFd listener_;
  std::thread agent_;
};

TEST_F(WarmTemplateTest, TheAgentGetsParamsFreshEntropyAndTheClock) {
  std::string params_seen;
  agent_ = std::thread([&] {
    UniqueFd fd = AcceptConnect();
    SendText(fd.get(), proto::kTemplateReady);
    auto assignment = ReadAssignment(fd.get());
    ASSERT_TRUE(assignment.ok()) << assignment.error().message();
    params_seen = assignment->params;
    EXPECT_GE(assignment->entropy.size(), proto::kMinAssignmentEntropy);
    EXPECT_GT(assignment->wall_clock_ns, 1'700'000'000ull * 1'000'000'000ull);
    SendText(fd.get(), proto::kTemplateOk);
  });
  auto assignment = NewAssignment("vk.root=/dev/vda vk.hostname=web", {});
  ASSERT_TRUE(assignment.ok());
  auto assigned = AssignTemplateVm(socket_, *assignment, std::chrono::seconds(10));
  agent_.join();
  EXPECT_TRUE(assigned.ok()) << assigned.error().message();
  EXPECT_EQ(params_seen, "vk.root=/dev/vda vk.hostname=web");
}

TEST_F(WarmTemplateTest, TwoAssignmentsNeverShareEntropy) {
  auto a = NewAssignment("", {});
  auto b = NewAssignment("", {});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->entropy, b->entropy);
}

// Right after a restore the first connection may die silently (the guest
// accepted it just before handling the vsock TRANSPORT_RESET): the host
// connects again instead of waiting out its whole deadline.
TEST_F(WarmTemplateTest, ASilentFirstConnectionIsRetried) {
  agent_ = std::thread([&] {
    UniqueFd dead = AcceptConnect();  // never greets
    UniqueFd fd = AcceptConnect();
    SendText(fd.get(), proto::kTemplateReady);
    ASSERT_TRUE(ReadAssignment(fd.get()).ok());
    SendText(fd.get(), proto::kTemplateOk);
  });
  auto start = std::chrono::steady_clock::now();
  auto assignment = NewAssignment("vk.root=/dev/vda", {});
  ASSERT_TRUE(assignment.ok());
  auto assigned = AssignTemplateVm(socket_, *assignment, std::chrono::seconds(30));
  agent_.join();
  EXPECT_TRUE(assigned.ok()) << assigned.error().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(WarmTemplateTest, TheAgentsRefusalIsTheError) {
  agent_ = std::thread([&] {
    UniqueFd fd = AcceptConnect();
    SendText(fd.get(), proto::kTemplateReady);
    (void)ReadAssignment(fd.get());
    SendText(fd.get(), "ERR disk /dev/vda not ready\n");
  });
  auto assignment = NewAssignment("vk.root=/dev/vda", {});
  ASSERT_TRUE(assignment.ok());
  auto assigned = AssignTemplateVm(socket_, *assignment, std::chrono::seconds(10));
  agent_.join();
  ASSERT_FALSE(assigned.ok());
  EXPECT_NE(assigned.error().message().find("refused its assignment: disk /dev/vda not ready"),
            std::string::npos)
      << assigned.error().message();
}

TEST(TemplateKeyTest, EveryPartOfTheShapeChangesTheKey) {
  ::setenv("XDG_CACHE_HOME", "/tmp/vk-cache-test", 1);
  TemplateShape shape;
  shape.memory_bytes = 256ull << 20;
  shape.cmdline = "console=ttyS0 vk.template=1023";
  TemplateGuest guest{"embedded:abc", nullptr};
  auto base = TemplateDirectory(shape, guest);
  ASSERT_TRUE(base.ok());
  EXPECT_EQ(base->rfind("/tmp/vk-cache-test/virtkit/snapshots/", 0), 0u) << *base;
  std::vector<TemplateShape> variants(7, shape);
  variants[0].cpus = 2;
  variants[1].memory_bytes = 512ull << 20;
  variants[2].root_read_only = true;
  variants[3].scratch = true;
  variants[4].net = true;
  variants[5].shares = 1;
  variants[6].cmdline += " loglevel=7";
  for (const TemplateShape& variant : variants) {
    EXPECT_NE(*TemplateDirectory(variant, guest), *base);
  }
  TemplateGuest other{"kernel:def", nullptr};
  EXPECT_NE(*TemplateDirectory(shape, other), *base);
  EXPECT_EQ(*TemplateDirectory(shape, guest), *base) << "stable for the same inputs";
  ::unsetenv("XDG_CACHE_HOME");
}

}  // namespace
}  // namespace vk
