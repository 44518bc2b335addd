// RunVirtctl against a stand-in fleet controller on a unix socket
// ($VIRTCTL_SOCKET): the request it sends, what it prints, its exit status.
#include "agent/virtctl.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/fd_io.h"
#include "base/testing/fd_testing.h"
#include "base/testing/scoped_env.h"
#include "base/unix_socket.h"
#include "proto/virtctl_text.h"

namespace vk::agent {
namespace {

using namespace std::string_literals;
using proto::UnitInfo;
using proto::VirtctlOp;
using proto::VirtctlReply;
using proto::VirtctlRequest;

// Serves one connection: reads the request line, answers `lines` verbatim,
// closes.
class FakeController {
 public:
  explicit FakeController(std::vector<std::string> lines) {
    char dir[] = "/tmp/vk-virtctl-XXXXXX";
    EXPECT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    auto listener = ListenUnix(path());
    EXPECT_TRUE(listener.ok()) << listener.error().message();
    if (listener.ok()) listener_ = std::move(*listener);
    thread_ = std::thread([this, lines = std::move(lines)] { Serve(lines); });
  }
  ~FakeController() {
    if (thread_.joinable()) thread_.join();
    ::unlink(path().c_str());
    ::rmdir(dir_.c_str());
  }
  std::string path() const { return dir_ + "/virtctl.sock"; }
  // The request line received (once the conversation is over).
  std::string request() {
    if (thread_.joinable()) thread_.join();
    return request_;
  }

 private:
  void Serve(const std::vector<std::string>& lines) {
    UniqueFd connection(::accept(listener_.get(), nullptr, nullptr));
    if (!connection) return;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    auto line = ReadLineBefore(connection.get(), deadline, proto::kMaxVirtctlLine);
    if (line.ok()) request_ = *line;
    for (const std::string& reply : lines) {
      if (!WriteAll(connection.get(), reply).ok()) return;
    }
  }

  std::string dir_;
  UniqueFd listener_;
  std::string request_;
  std::thread thread_;
};

struct Outcome {
  int status = -1;
  std::string out, err;
};

// RunVirtctl("virtctl", args...) with stdout and stderr captured in files.
Outcome Capture(std::vector<std::string> args) {
  args.insert(args.begin(), "virtctl");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  FILE* out = std::tmpfile();
  FILE* err = std::tmpfile();
  std::fflush(stdout);
  std::fflush(stderr);
  int saved_out = ::dup(STDOUT_FILENO), saved_err = ::dup(STDERR_FILENO);
  ::dup2(::fileno(out), STDOUT_FILENO);
  ::dup2(::fileno(err), STDERR_FILENO);
  Outcome outcome;
  outcome.status = RunVirtctl(static_cast<int>(args.size()), argv.data());
  std::fflush(stdout);
  std::fflush(stderr);
  ::dup2(saved_out, STDOUT_FILENO);
  ::dup2(saved_err, STDERR_FILENO);
  ::close(saved_out);
  ::close(saved_err);
  outcome.out = testing::FdContents(::fileno(out));
  outcome.err = testing::FdContents(::fileno(err));
  std::fclose(out);
  std::fclose(err);
  return outcome;
}

// Runs virtctl against a controller that answers `lines`; the request it saw.
Outcome RunAgainst(std::vector<std::string> args, std::vector<std::string> lines,
                   std::string* request = nullptr) {
  FakeController controller(std::move(lines));
  testing::ScopedEnv socket(kVirtctlSocketEnv, controller.path());
  Outcome outcome = Capture(std::move(args));
  if (request) *request = controller.request();
  return outcome;
}

std::string Line(VirtctlRequest request) { return proto::EncodeVirtctlRequest(request); }

UnitInfo Redis() {
  return UnitInfo{.name = "redis",
                  .state = "running",
                  .health = "healthy",
                  .address = "192.168.127.3",
                  .vm = "shop-redis",
                  .ports = {"127.0.0.1:6380->6379/tcp"},
                  .restarts = 1,
                  .exit_code = 137,
                  .uptime_seconds = 3723};
}

UnitInfo Shell() {
  return UnitInfo{.name = "shell", .state = "running", .address = "192.168.127.2", .dev = true};
}

TEST(Virtctl, InvokedAsVirtctlByBaseName) {
  EXPECT_TRUE(InvokedAsVirtctl("virtctl"));
  EXPECT_TRUE(InvokedAsVirtctl("/usr/local/bin/virtctl"));
  EXPECT_FALSE(InvokedAsVirtctl("/usr/local/bin/vk-agent"));
  EXPECT_FALSE(InvokedAsVirtctl("virtctl2"));
  EXPECT_FALSE(InvokedAsVirtctl("/virtctl/vk-agent"));
  EXPECT_FALSE(InvokedAsVirtctl(""));
}

TEST(Virtctl, ListPrintsAnAlignedTable) {
  std::string request;
  Outcome run =
      RunAgainst({"list"}, {proto::EncodeVirtctlReply({.units = {Redis(), Shell()}})}, &request);
  EXPECT_EQ(request, "{\"op\":\"list\"}\n");
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(
      run.out,
      "NAME    VM          STATE    HEALTH   ADDRESS        RESTARTS  PORTS\n"
      "redis   shop-redis  running  healthy  192.168.127.3  1         127.0.0.1:6380->6379/tcp\n"
      "shell*  -           running  -        192.168.127.2  0\n");
  EXPECT_EQ(run.err, "");
}

TEST(Virtctl, ListOfNothingIsTheHeader) {
  EXPECT_EQ(proto::FormatUnitTable({}), "NAME  VM  STATE  HEALTH  ADDRESS  RESTARTS  PORTS\n");
}

TEST(Virtctl, AnExitedUnitShowsItsCode) {
  UnitInfo unit{.name = "job", .state = "exited", .exit_code = 3};
  EXPECT_NE(proto::FormatUnitTable({unit}).find("exited(3)"), std::string::npos);
}

TEST(Virtctl, StatusPrintsKeyValueLines) {
  std::string request;
  Outcome run =
      RunAgainst({"status", "redis"}, {proto::EncodeVirtctlReply({.units = {Redis()}})}, &request);
  EXPECT_EQ(request, Line({.op = VirtctlOp::kStatus, .unit = "redis"}));
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out,
            "name: redis\nstate: running\nhealth: healthy\naddress: 192.168.127.3\n"
            "vm: shop-redis\nports: 127.0.0.1:6380->6379/tcp\nrestarts: 1\nexit_code: 137\n"
            "uptime: 1h2m3s\ndev: no\n");
}

TEST(Virtctl, StatusOfAStoppedDevUnit) {
  UnitInfo unit{.name = "shell", .uptime_seconds = 90061, .dev = true};
  EXPECT_EQ(proto::FormatUnitStatus(unit),
            "name: shell\nstate: -\nhealth: -\naddress: -\nvm: -\nports: -\nrestarts: 0\n"
            "uptime: 1d1h1m1s\ndev: yes\n");
}

TEST(Virtctl, StartStopRestartDownPrintTheMessage) {
  struct Case {
    std::vector<std::string> args;
    VirtctlRequest request;
  };
  for (const Case& c : {Case{{"start", "redis"}, {.op = VirtctlOp::kStart, .unit = "redis"}},
                        Case{{"stop", "redis"}, {.op = VirtctlOp::kStop, .unit = "redis"}},
                        Case{{"restart", "web.1"}, {.op = VirtctlOp::kRestart, .unit = "web.1"}},
                        Case{{"down"}, {.op = VirtctlOp::kDown}}}) {
    std::string request;
    Outcome run = RunAgainst(c.args, {proto::EncodeVirtctlReply({.message = "done it"})}, &request);
    EXPECT_EQ(request, Line(c.request));
    EXPECT_EQ(run.status, 0) << run.err;
    EXPECT_EQ(run.out, "done it\n");
  }
  EXPECT_EQ(RunAgainst({"stop", "redis"}, {proto::EncodeVirtctlReply({})}).out, "");
}

TEST(Virtctl, LogsStreamRawChunksUntilTheReply) {
  std::string request;
  std::string bytes = "partial line, "s + '\0' + " nul\n\x1b[31mred\x1b[0m\n";
  Outcome run = RunAgainst(
      {"logs", "-f", "redis"},
      {proto::EncodeLogChunk("partial line, "),
       proto::EncodeLogChunk("\0 nul\n\x1b[31mred"s) + proto::EncodeLogChunk("\x1b[0m\n"),
       proto::EncodeVirtctlReply({.message = "redis exited"})},
      &request);
  EXPECT_EQ(request, "{\"op\":\"logs\",\"unit\":\"redis\",\"follow\":true}\n");
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out, bytes);
  EXPECT_EQ(run.err, "virtctl: redis exited\n");
}

TEST(Virtctl, LogsWithoutFollow) {
  std::string request;
  Outcome run = RunAgainst({"logs", "redis"},
                           {proto::EncodeLogChunk("a\n"), proto::EncodeVirtctlReply({})}, &request);
  EXPECT_EQ(request, Line({.op = VirtctlOp::kLogs, .unit = "redis"}));
  EXPECT_EQ(run.out, "a\n");
  EXPECT_EQ(run.status, 0);
}

TEST(Virtctl, ALastLineWithoutNewlineStillCounts) {
  std::string reply = proto::EncodeVirtctlReply({.message = "ok"});
  reply.pop_back();
  EXPECT_EQ(RunAgainst({"stop", "redis"}, {reply}).out, "ok\n");
}

TEST(Virtctl, AnErrorReplyExits1) {
  Outcome run =
      RunAgainst({"stop", "redis"},
                 {proto::EncodeVirtctlReply(
                     {.ok = false, .error = "refused: only the dev VM may control units"})});
  EXPECT_EQ(run.status, 1);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, "virtctl: refused: only the dev VM may control units\n");
}

TEST(Virtctl, ABrokenConversationExits1) {
  Outcome closed = RunAgainst({"list"}, {});
  EXPECT_EQ(closed.status, 1);
  EXPECT_NE(closed.err.find("closed the connection without a reply"), std::string::npos);

  Outcome garbage = RunAgainst({"list"}, {"hello\n"});
  EXPECT_EQ(garbage.status, 1);
  EXPECT_NE(garbage.err.find("bad reply from the fleet controller: virtctl reply: not valid JSON"),
            std::string::npos)
      << garbage.err;

  Outcome unfinished = RunAgainst({"logs", "redis"}, {proto::EncodeLogChunk("a")});
  EXPECT_EQ(unfinished.status, 1);
  EXPECT_EQ(unfinished.out, "a");
}

TEST(Virtctl, AnOverlongReplyLineExits1) {
  Outcome run = RunAgainst({"list"}, {std::string(proto::kMaxVirtctlLine + 10, ' ')});
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.err.find("over the limit"), std::string::npos) << run.err;
}

TEST(Virtctl, AnUnreachableControllerExits1) {
  testing::ScopedEnv socket(kVirtctlSocketEnv, "/nonexistent/virtctl.sock");
  Outcome run = Capture({"list"});
  EXPECT_EQ(run.status, 1);
  EXPECT_EQ(
      run.err,
      "virtctl: cannot reach the fleet controller (VIRTCTL_SOCKET=/nonexistent/virtctl.sock): "
      "No such file or directory; virtctl works inside `vk fleet` VMs\n");
}

TEST(Virtctl, WithoutTheVariableItTriesTheHostsVsockPort) {
  // Outside a VM nothing answers CID 2 port 4446 (or there is no vsock).
  testing::ScopedEnv socket(kVirtctlSocketEnv, std::nullopt);
  Outcome run = Capture({"list"});
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.err.find("virtctl: cannot reach the fleet controller (vsock port 4446): "),
            std::string::npos)
      << run.err;
}

TEST(Virtctl, BadUsageExits2WithoutConnecting) {
  testing::ScopedEnv socket(kVirtctlSocketEnv, "/nonexistent/virtctl.sock");
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{},
                                             {"reboot"},
                                             {"stop"},
                                             {"stop", "a", "b"},
                                             {"stop", "../x"},
                                             {"list", "redis"},
                                             {"stop", "-f", "redis"},
                                             {"logs", "--tail", "redis"},
                                             {"LIST"}}) {
    Outcome run = Capture(args);
    EXPECT_EQ(run.status, 2) << args.size();
    EXPECT_NE(run.err.find("usage: virtctl list"), std::string::npos) << run.err;
    EXPECT_EQ(run.out, "");
  }
  EXPECT_NE(Capture({"stop", "../x"}).err.find("invalid VM name '../x'"), std::string::npos);
}

TEST(Virtctl, HelpGoesToStdout) {
  for (const char* flag : {"-h", "--help"}) {
    Outcome run = Capture({flag});
    EXPECT_EQ(run.status, 0);
    EXPECT_EQ(run.out.rfind("usage: virtctl list | status UNIT", 0), 0u) << run.out;
  }
}

}  // namespace
}  // namespace vk::agent
