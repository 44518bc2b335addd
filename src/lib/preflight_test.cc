#include "lib/preflight.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace virtkit::internal {
namespace {

// A TCP listener on 127.0.0.1 with a kernel-chosen port.
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    EXPECT_EQ(::listen(fd_, 1), 0);
    socklen_t length = sizeof(address);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~Listener() { ::close(fd_); }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

TEST(PreflightTest, BusyPortIsNamed) {
  Listener busy;
  auto check = preflight::PortsFree({{.host_port = busy.port(), .guest_port = 80}});
  auto result = check.check();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind(), ErrorKind::kPreflight);
  EXPECT_EQ(result.error().message(),
            "host port 127.0.0.1:" + std::to_string(busy.port()) + "/tcp is in use");
}

TEST(PreflightTest, FreePortPasses) {
  uint16_t port;
  {
    Listener probe;
    port = probe.port();
  }
  EXPECT_TRUE(preflight::PortsFree({{.host_port = port, .guest_port = 80}}).check());
  // UDP is checked as UDP: a TCP listener does not make the UDP port busy.
  Listener tcp;
  EXPECT_TRUE(preflight::PortsFree(
                  {{.host_port = tcp.port(), .guest_port = 53, .protocol = Protocol::kUdp}})
                  .check());
}

TEST(PreflightTest, FreeDisk) {
  EXPECT_TRUE(preflight::FreeDisk("/tmp", 1).check());
  auto result = preflight::FreeDisk("/tmp/no/such/dir", UINT64_MAX / 2).check();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind(), ErrorKind::kPreflight);
  // Measured at the nearest existing parent, and the need is in MiB.
  EXPECT_NE(result.error().message().find("free at /tmp, need"), std::string::npos)
      << result.error().message();
}

TEST(PreflightTest, FreeMemory) {
  EXPECT_TRUE(preflight::FreeMemory(1).check());
  auto result = preflight::FreeMemory(UINT64_MAX / 2).check();
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message().find("available, the VM may use"), std::string::npos)
      << result.error().message();
}

TEST(PreflightTest, Cpus) {
  EXPECT_TRUE(preflight::Cpus(1).check());
  auto result = preflight::Cpus(100000).check();
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message().find("the VM asks for 100000"), std::string::npos);
}

TEST(PreflightTest, KvmAccessMatchesOpen) {
  auto result = preflight::KvmAccess().check();
  if (::access("/dev/kvm", R_OK | W_OK) == 0) {
    EXPECT_TRUE(result);
  } else {
    ASSERT_FALSE(result);
    EXPECT_NE(result.error().message().find("cannot open /dev/kvm"), std::string::npos);
  }
}

TEST(PreflightTest, RequiredFailuresTogetherAdvisoryWarned) {
  std::vector<std::string> warnings;
  std::vector<PreflightCheck> checks = {
      {"one", [] { return Result<void>(Error(ErrorKind::kInternal, "first")); }},
      {"two", [] { return Ok(); }},
      {"three", [] { return Result<void>(Error(ErrorKind::kInternal, "second")); }},
      {"soft", [] { return Result<void>(Error(ErrorKind::kInternal, "meh")); }, false},
  };
  auto result = RunPreflight(checks, [&](std::string_view text) { warnings.emplace_back(text); });
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind(), ErrorKind::kPreflight);
  EXPECT_EQ(result.error().message(), "preflight: one: first; three: second");
  EXPECT_EQ(warnings, std::vector<std::string>{"preflight (advisory) soft: meh"});
}

TEST(PreflightTest, BuiltinsThenCustom) {
  Options options;
  options.preflight.push_back({"mine", [] { return Ok(); }});
  auto checks = ChecksFor(options, "/tmp");
  ASSERT_EQ(checks.size(), 6u);
  EXPECT_EQ(checks.front().name, "ports");
  EXPECT_EQ(checks.back().name, "mine");
  options.builtin_preflight = false;
  EXPECT_EQ(ChecksFor(options, "/tmp").size(), 1u);
}

}  // namespace
}  // namespace virtkit::internal
