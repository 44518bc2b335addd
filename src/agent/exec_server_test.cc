// End-to-end exec sessions on the host: the agent's server and the host's
// client (RunExecSession) talk over a socketpair, as they do over vsock.
#include "agent/exec_server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "agent/spawn.h"
#include "base/unique_fd.h"
#include "proto/exec_client.h"
#include "proto/frame.h"

namespace vk::agent {
namespace {

using proto::ExecRequest;
using proto::ExitStatus;

UniqueFd MemFile(std::string_view contents = "") {
  UniqueFd fd(memfd_create("exec-test", MFD_CLOEXEC));
  EXPECT_TRUE(fd.valid());
  EXPECT_EQ(write(fd.get(), contents.data(), contents.size()), ssize_t(contents.size()));
  lseek(fd.get(), 0, SEEK_SET);
  return fd;
}

std::string ReadAll(int fd) {
  std::string text;
  char buffer[65536];
  ssize_t got;
  off_t offset = 0;
  while ((got = pread(fd, buffer, sizeof(buffer), offset)) > 0) {
    text.append(buffer, size_t(got));
    offset += got;
  }
  return text;
}

ExecRequest Command(std::vector<std::string> argv) {
  ExecRequest request;
  request.argv = std::move(argv);
  return request;
}

struct Pair {
  UniqueFd host, agent;
};

Pair SocketPair() {
  int fds[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

struct Outcome {
  Result<ExitStatus> host = Error("not run");
  Result<ExitStatus> agent = Error("not run");
  std::string out, err;
};

class ExecServerTest : public ::testing::Test {
 protected:
  void SetUp() override { alarm(120); }  // a hung session fails the run instead of blocking it
  void TearDown() override { alarm(0); }

  // Runs `request` with `input` on stdin; stdout and stderr land in files
  // unless `stdio` overrides them.
  Outcome Run(const ExecRequest& request, std::string_view input = "",
              proto::ExecSessionOptions host_options = {}, ExecServerOptions agent_options = {},
              std::optional<proto::StdioFds> stdio = std::nullopt) {
    Outcome outcome;
    auto [host, agent] = SocketPair();
    UniqueFd in = MemFile(input), out = MemFile(), err = MemFile();
    std::thread server([&, fd = agent.get()] { outcome.agent = ServeExec(fd, agent_options); });
    outcome.host = proto::RunExecSession(
        host.get(), request, stdio.value_or(proto::StdioFds{in.get(), out.get(), err.get()}),
        host_options);
    host.Reset();  // a failed host side must not leave the server waiting
    server.join();
    outcome.out = ReadAll(out.get());
    outcome.err = ReadAll(err.get());
    return outcome;
  }
};

void ExpectExit(const Outcome& outcome, ExitStatus expected) {
  ASSERT_TRUE(outcome.host.ok()) << outcome.host.error().message();
  ASSERT_TRUE(outcome.agent.ok()) << outcome.agent.error().message();
  EXPECT_EQ(*outcome.host, expected);
  EXPECT_EQ(*outcome.agent, expected);
}

TEST_F(ExecServerTest, ReportsExitCodes) {
  ExpectExit(Run(Command({"true"})), ExitStatus::Exited(0));
  ExpectExit(Run(Command({"false"})), ExitStatus::Exited(1));
  ExpectExit(Run(Command({"sh", "-c", "exit 7"})), ExitStatus::Exited(7));
}

TEST_F(ExecServerTest, SeparatesStdoutAndStderr) {
  auto outcome = Run(Command({"sh", "-c", "echo out; echo err >&2"}));
  ExpectExit(outcome, ExitStatus::Exited(0));
  EXPECT_EQ(outcome.out, "out\n");
  EXPECT_EQ(outcome.err, "err\n");
}

TEST_F(ExecServerTest, ReportsDeathBySignal) {
  ExpectExit(Run(Command({"sh", "-c", "kill -TERM $$"})), ExitStatus::Signaled(SIGTERM));
  ExpectExit(Run(Command({"sh", "-c", "kill -KILL $$"})), ExitStatus::Signaled(SIGKILL));
}

TEST_F(ExecServerTest, PassesStdinAndItsEof) {
  auto outcome = Run(Command({"cat"}), "hello\nworld\n");
  ExpectExit(outcome, ExitStatus::Exited(0));
  EXPECT_EQ(outcome.out, "hello\nworld\n");
  auto no_input = Run(Command({"cat"}), "", {}, {}, proto::StdioFds{-1, -1, -1});
  ExpectExit(no_input, ExitStatus::Exited(0));
}

TEST_F(ExecServerTest, StreamsTenMegabytesOfStdin) {
  auto outcome = Run(Command({"wc", "-c"}), std::string(10 << 20, 'x'));
  ExpectExit(outcome, ExitStatus::Exited(0));
  EXPECT_EQ(outcome.out, "10485760\n");
}

TEST_F(ExecServerTest, SlowReaderKeepsBothSidesBounded) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  size_t total = 0;
  std::thread reader([&] {
    char buffer[8192];
    ssize_t got;
    while ((got = read(read_end.get(), buffer, sizeof(buffer))) > 0) {
      total += size_t(got);
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  });
  proto::BufferStats host_stats, agent_stats;
  proto::ExecSessionOptions host_options;
  host_options.stats = &host_stats;
  ExecServerOptions agent_options;
  agent_options.stats = &agent_stats;
  UniqueFd err = MemFile();
  auto outcome = Run(Command({"head", "-c", "10485760", "/dev/zero"}), "", host_options,
                     agent_options, proto::StdioFds{-1, write_end.get(), err.get()});
  write_end.Reset();
  reader.join();
  ExpectExit(outcome, ExitStatus::Exited(0));
  EXPECT_EQ(total, 10u << 20);
  // Each side holds at most about one window of the stream, never the 10 MB.
  constexpr size_t kBound = 2 * proto::kInitialWindow;
  EXPECT_LE(host_stats.peak_inbound, kBound);
  EXPECT_LE(host_stats.peak_outbound, kBound);
  EXPECT_LE(agent_stats.peak_inbound, kBound);
  EXPECT_LE(agent_stats.peak_outbound, kBound);
}

TEST_F(ExecServerTest, HostDrainsOutputAfterTheAgentHasGone) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  size_t total = 0;
  std::thread reader([&] {
    char buffer[4096];
    ssize_t got;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the agent is gone by now
    while ((got = read(read_end.get(), buffer, sizeof(buffer))) > 0) total += size_t(got);
  });
  ExecServerOptions agent_options;
  agent_options.linger_ms = 0;  // close right after Exit, as a powered-off VM does
  auto outcome = Run(Command({"head", "-c", "300000", "/dev/zero"}), "", {}, agent_options,
                     proto::StdioFds{-1, write_end.get(), -1});
  write_end.Reset();
  reader.join();
  ExpectExit(outcome, ExitStatus::Exited(0));
  EXPECT_EQ(total, 300000u);
}

TEST_F(ExecServerTest, RunsOnAPseudoTerminal) {
  ExecRequest request = Command({"sh", "-c", "tty; stty size; echo err >&2"});
  request.tty = proto::TtyConfig{"xterm", 33, 101};
  auto outcome = Run(request);
  ExpectExit(outcome, ExitStatus::Exited(0));
  EXPECT_EQ(outcome.out.rfind("/dev/pts/", 0), 0u) << outcome.out;
  EXPECT_NE(outcome.out.find("33 101\r\n"), std::string::npos) << outcome.out;
  EXPECT_NE(outcome.out.find("err\r\n"), std::string::npos) << "stderr is merged";
  EXPECT_EQ(outcome.err, "");
}

TEST_F(ExecServerTest, AppliesResizeToTheTerminal) {
  auto control = proto::SessionControl::Create();
  ASSERT_TRUE(control.ok());
  int in_pipe[2], out_pipe[2];
  ASSERT_EQ(pipe2(in_pipe, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(out_pipe, O_CLOEXEC), 0);
  UniqueFd in_read(in_pipe[0]), in_write(in_pipe[1]), out_read(out_pipe[0]), out_write(out_pipe[1]);
  std::string seen;
  std::thread driver([&] {
    char buffer[4096];
    ssize_t got;
    bool resized = false;
    while ((got = read(out_read.get(), buffer, sizeof(buffer))) > 0) {
      seen.append(buffer, size_t(got));
      if (!resized && seen.find("33 101") != std::string::npos) {
        resized = true;
        control->Resize(50, 132);
        EXPECT_EQ(write(in_write.get(), "go\n", 3), 3);
        in_write.Reset();
      }
    }
  });
  ExecRequest request = Command({"sh", "-c", "stty size; read x; stty size"});
  request.tty = proto::TtyConfig{"xterm", 33, 101};
  proto::ExecSessionOptions options;
  options.control = &*control;
  auto outcome = Run(request, "", options, {}, proto::StdioFds{in_read.get(), out_write.get(), -1});
  out_write.Reset();
  driver.join();
  ExpectExit(outcome, ExitStatus::Exited(0));
  EXPECT_NE(seen.find("50 132"), std::string::npos) << seen;
}

TEST_F(ExecServerTest, ForwardsSignalsToTheProcessGroup) {
  auto control = proto::SessionControl::Create();
  ASSERT_TRUE(control.ok());
  control->ForwardSignal(SIGTERM);
  proto::ExecSessionOptions options;
  options.control = &*control;
  ExpectExit(Run(Command({"sleep", "30"}), "", options), ExitStatus::Signaled(SIGTERM));
}

TEST_F(ExecServerTest, SwitchesUser) {
  if (getuid() != 0) GTEST_SKIP() << "needs root";
  for (const char* user : {"nobody", "65534:65534"}) {
    ExecRequest request = Command({"sh", "-c", "id -u; id -g; echo $HOME"});
    request.user = user;
    auto outcome = Run(request);
    ExpectExit(outcome, ExitStatus::Exited(0));
    EXPECT_EQ(outcome.out.substr(0, 12), "65534\n65534\n") << user << ": " << outcome.out;
  }
}

TEST_F(ExecServerTest, UnknownUserIs126) {
  ExecRequest request = Command({"true"});
  request.user = "no-such-user-here";
  auto outcome = Run(request);
  ExpectExit(outcome, ExitStatus::Exited(126));
  EXPECT_NE(outcome.err.find("unable to find user no-such-user-here"), std::string::npos);
}

TEST_F(ExecServerTest, MissingOrNonExecutableBinary) {
  auto missing = Run(Command({"no-such-command-xyz"}));
  ExpectExit(missing, ExitStatus::Exited(127));
  EXPECT_NE(missing.err.find("executable file not found in $PATH"), std::string::npos);
  ExpectExit(Run(Command({"/no/such/path"})), ExitStatus::Exited(127));
  auto not_executable = Run(Command({"/etc/passwd"}));
  ExpectExit(not_executable, ExitStatus::Exited(126));
  EXPECT_NE(not_executable.err.find("Permission denied"), std::string::npos);
}

TEST_F(ExecServerTest, AppliesEnvironmentAndDirectory) {
  ExecRequest request = Command({"sh", "-c", "echo \"$FOO|$PATH\"; pwd"});
  request.env = {"FOO=bar"};
  request.cwd = "/usr/bin";
  auto outcome = Run(request);
  ExpectExit(outcome, ExitStatus::Exited(0));
  EXPECT_EQ(outcome.out, std::string("bar|") + kDefaultPath + "\n/usr/bin\n");

  ExecRequest clear = Command({"/usr/bin/env"});
  clear.clear_env = true;
  clear.env = {"ONLY=this"};
  auto cleared = Run(clear);
  ExpectExit(cleared, ExitStatus::Exited(0));
  EXPECT_EQ(cleared.out, "ONLY=this\n");

  ExecRequest bad_dir = Command({"true"});
  bad_dir.cwd = "/no/such/dir";
  ExpectExit(Run(bad_dir), ExitStatus::Exited(126));
}

TEST_F(ExecServerTest, AppliesResourceLimitsBeforeExec) {
  ExecRequest request = Command({"sh", "-c", "ulimit -n; ulimit -Hn; ulimit -c"});
  request.rlimits = {{RLIMIT_NOFILE, 64, 64}, {RLIMIT_CORE, 0, 0}};
  auto outcome = Run(request);
  ExpectExit(outcome, ExitStatus::Exited(0));
  EXPECT_EQ(outcome.out, "64\n64\n0\n") << outcome.err;
}

TEST_F(ExecServerTest, ALimitSetrlimitRefusesIs126) {
  // RLIMIT_NOFILE above fs.nr_open is EPERM even for root: the command must
  // not run at all rather than run without its limit.
  ExecRequest request = Command({"sh", "-c", "echo ran"});
  request.rlimits = {{RLIMIT_NOFILE, RLIM_INFINITY, RLIM_INFINITY}};
  auto outcome = Run(request);
  ExpectExit(outcome, ExitStatus::Exited(126));
  EXPECT_EQ(outcome.out, "");
  EXPECT_NE(outcome.err.find("setrlimit RLIMIT_NOFILE"), std::string::npos) << outcome.err;
}

bool ProcessGone(pid_t pid);

TEST_F(ExecServerTest, AsInitReapsOrphansThatDieDuringTheSession) {
  // A subreaper inherits orphans as PID 1 does in the guest.
  ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  ExecServerOptions options;
  options.reap = ReapScope::kAllChildren;
  auto outcome = Run(Command({"sh", "-c", "(sleep 0.1 & echo $!); sleep 0.5"}), "", {}, options);
  prctl(PR_SET_CHILD_SUBREAPER, 0);
  ExpectExit(outcome, ExitStatus::Exited(0));
  const pid_t orphan = std::stoi(outcome.out);
  EXPECT_NE(kill(orphan, 0), 0) << "orphan " << orphan << " left as a zombie";
}

TEST_F(ExecServerTest, HostRefusesToSendAnInvalidRequest) {
  auto outcome = Run(ExecRequest{});
  ASSERT_FALSE(outcome.host.ok());
  EXPECT_NE(outcome.host.error().message().find("invalid exec request: empty argv"),
            std::string::npos)
      << outcome.host.error().message();
  EXPECT_FALSE(outcome.agent.ok());
}

TEST_F(ExecServerTest, HelloAlreadyExchangedOnBothSides) {
  auto [host, agent] = SocketPair();
  Result<ExitStatus> agent_result = Error("not run");
  std::thread server([&, fd = agent.get()] {
    auto hello = proto::ExchangeHello(fd, proto::Role::kAgent, 5000);
    if (!hello.ok()) return;
    agent_result = ServeExec(fd, {.hello = proto::HelloState::kDone});
  });
  auto hello = proto::ExchangeHello(host.get(), proto::Role::kHost, 5000);
  ASSERT_TRUE(hello.ok()) << hello.error().message();
  EXPECT_EQ(hello->role, proto::Role::kAgent);
  auto status = proto::RunExecSession(host.get(), Command({"sh", "-c", "exit 3"}), {-1, -1, -1},
                                      {.hello = proto::HelloState::kDone});
  host.Reset();
  server.join();
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_EQ(*status, ExitStatus::Exited(3));
  ASSERT_TRUE(agent_result.ok());
}

// Reads frames from a blocking fd until `done` says stop; returns false on EOF.
template <typename Done>
bool ReadFrames(int fd, proto::FrameDecoder& decoder, Done done) {
  uint8_t buffer[4096];
  for (;;) {
    for (;;) {
      auto frame = decoder.Next();
      if (!frame.ok() || !frame->has_value()) break;
      if (done(**frame)) return true;
    }
    const ssize_t got = read(fd, buffer, sizeof(buffer));
    if (got <= 0) return false;
    decoder.Feed({buffer, size_t(got)});
  }
}

bool ProcessGone(pid_t pid) {
  for (int i = 0; i < 500; ++i) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return true;
    const auto state_at = line.rfind(')');
    if (state_at != std::string::npos && line.substr(state_at + 2, 1) == "Z") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST_F(ExecServerTest, DroppedConnectionKillsTheProcessGroup) {
  auto [host, agent] = SocketPair();
  Result<ExitStatus> agent_result = Error("not run");
  std::thread server([&, fd = agent.get()] { agent_result = ServeExec(fd); });
  ASSERT_TRUE(proto::ExchangeHello(host.get(), proto::Role::kHost, 5000).ok());
  auto request = *proto::EncodeExecRequest(Command({"sh", "-c", "sleep 30 & echo $$ $!; wait"}));
  ASSERT_EQ(write(host.get(), request.data(), request.size()), ssize_t(request.size()));
  proto::FrameDecoder decoder;
  std::string out;
  ASSERT_TRUE(ReadFrames(host.get(), decoder, [&](const proto::Frame& frame) {
    if (frame.type == proto::FrameType::kStdout)
      out.append(frame.payload.begin(), frame.payload.end());
    return out.find('\n') != std::string::npos;
  }));
  pid_t shell = 0, sleeper = 0;
  ASSERT_EQ(sscanf(out.c_str(), "%d %d", &shell, &sleeper), 2) << out;
  host.Reset();
  server.join();
  ASSERT_FALSE(agent_result.ok());
  EXPECT_NE(agent_result.error().message().find("host closed"), std::string::npos);
  EXPECT_TRUE(ProcessGone(shell));
  EXPECT_TRUE(ProcessGone(sleeper)) << "the whole process group is killed";
}

TEST_F(ExecServerTest, ReportsThePidAndCountsDeliveredOutput) {
  proto::CommandProgress progress;
  proto::ExecSessionOptions options;
  options.progress = &progress;
  auto outcome = Run(Command({"sh", "-c", "echo $$; printf 12345 >&2"}), "", options);
  ExpectExit(outcome, ExitStatus::Exited(0));
  proto::AttachRequest seen = progress.Load();
  EXPECT_EQ(std::to_string(seen.pid) + "\n", outcome.out) << "Started names the command";
  EXPECT_EQ(seen.stdout_bytes, outcome.out.size());
  EXPECT_EQ(seen.stderr_bytes, 5u);
}

// A host that loses its connection (not closes it), as a restored
// checkpoint does: the agent keeps the command and resumes on the next.
class ResumeTest : public ExecServerTest {
 protected:
  void SetUp() override {
    ExecServerTest::SetUp();
    flag_ = ::testing::TempDir() + "resume-flag-" + std::to_string(getpid());
    unlink(flag_.c_str());
    auto [host, agent] = SocketPair();
    next_host_ = std::move(host);
    next_agent_ = std::move(agent);
  }
  void TearDown() override {
    unlink(flag_.c_str());
    ExecServerTest::TearDown();
  }

  // Prints "one", waits for the flag file, prints "two", exits 7.
  ExecRequest Waiter() const {
    return Command(
        {"sh", "-c",
         "echo one; while [ ! -e " + flag_ + " ]; do sleep 0.02; done; echo two; exit 7"});
  }
  ExecServerOptions Resumable() {
    ExecServerOptions options;
    options.reconnect = [this]() -> Result<UniqueFd> {
      ++reconnects_;
      if (!next_agent_) return Error("no second connection");
      return std::move(next_agent_);
    };
    options.attach_timeout_ms = 5000;
    return options;
  }

  // The first host: sends the request, reads up to "one" (its pid from
  // Started) without returning credit, then stops reading, so the agent's
  // next send fails (EPIPE) as a reset connection's would.
  uint32_t FirstHostLosesTheConnection(int fd) {
    auto hello = proto::EncodeHello(proto::OurHello(proto::Role::kHost));
    auto request = *proto::EncodeExecRequest(Waiter());
    EXPECT_EQ(write(fd, hello.data(), hello.size()), ssize_t(hello.size()));
    EXPECT_EQ(write(fd, request.data(), request.size()), ssize_t(request.size()));
    proto::FrameDecoder decoder;
    uint32_t pid = 0;
    std::string out;
    EXPECT_TRUE(ReadFrames(fd, decoder, [&](const proto::Frame& frame) {
      if (frame.type == proto::FrameType::kStarted) pid = *proto::DecodeStarted(frame.payload);
      if (frame.type == proto::FrameType::kStdout)
        out.append(frame.payload.begin(), frame.payload.end());
      return out == "one\n";
    }));
    EXPECT_EQ(shutdown(fd, SHUT_RD), 0);
    std::ofstream(flag_).put('x');  // "two" now meets the dead connection
    return pid;
  }

  std::string flag_;
  UniqueFd next_host_, next_agent_;
  int reconnects_ = 0;
};

TEST_F(ResumeTest, CommandSurvivesALostConnectionAndNoOutputIsSentTwice) {
  auto [host, agent] = SocketPair();
  Result<ExitStatus> agent_result = Error("not run");
  std::thread server([&, fd = agent.get()] { agent_result = ServeExec(fd, Resumable()); });
  const uint32_t pid = FirstHostLosesTheConnection(host.get());
  ASSERT_NE(pid, 0u);
  // The first host handed on "one\n": the second resumes after it.
  proto::CommandProgress progress(proto::AttachRequest{pid, 4, 0});
  proto::ExecSessionOptions options;
  options.attach = proto::AttachRequest{pid, 4, 0};
  options.progress = &progress;
  UniqueFd out = MemFile(), err = MemFile();
  auto status = proto::RunExecSession(next_host_.get(), {}, {-1, out.get(), err.get()}, options);
  next_host_.Reset();
  server.join();
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_EQ(*status, ExitStatus::Exited(7));
  ASSERT_TRUE(agent_result.ok()) << agent_result.error().message();
  EXPECT_EQ(ReadAll(out.get()), "two\n");
  EXPECT_EQ(reconnects_, 1);
  EXPECT_EQ(progress.Load(), (proto::AttachRequest{pid, 8, 0}));
}

TEST_F(ResumeTest, BytesTheFirstHostDidNotHandOnAreSentAgain) {
  auto [host, agent] = SocketPair();
  Result<ExitStatus> agent_result = Error("not run");
  std::thread server([&, fd = agent.get()] { agent_result = ServeExec(fd, Resumable()); });
  const uint32_t pid = FirstHostLosesTheConnection(host.get());
  proto::ExecSessionOptions options;
  options.attach = proto::AttachRequest{pid, 0, 0};  // "one" never reached its destination
  UniqueFd out = MemFile();
  auto status = proto::RunExecSession(next_host_.get(), {}, {-1, out.get(), -1}, options);
  next_host_.Reset();
  server.join();
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_EQ(*status, ExitStatus::Exited(7));
  EXPECT_EQ(ReadAll(out.get()), "one\ntwo\n");
}

TEST_F(ResumeTest, AttachOutsideWhatTheAgentHoldsIsRefusedAndEndsTheCommand) {
  auto [host, agent] = SocketPair();
  Result<ExitStatus> agent_result = Error("not run");
  std::thread server([&, fd = agent.get()] { agent_result = ServeExec(fd, Resumable()); });
  const uint32_t pid = FirstHostLosesTheConnection(host.get());
  proto::ExecSessionOptions options;
  options.attach = proto::AttachRequest{pid, 100, 0};  // the agent sent 8 bytes
  auto status = proto::RunExecSession(next_host_.get(), {}, {-1, -1, -1}, options);
  next_host_.Reset();
  server.join();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message().find("cannot resume stdout at byte 100"), std::string::npos)
      << status.error().message();
  ASSERT_FALSE(agent_result.ok());
  EXPECT_TRUE(ProcessGone(static_cast<pid_t>(pid)));
}

TEST_F(ResumeTest, AttachNamingAnotherCommandIsRefused) {
  auto [host, agent] = SocketPair();
  Result<ExitStatus> agent_result = Error("not run");
  std::thread server([&, fd = agent.get()] { agent_result = ServeExec(fd, Resumable()); });
  const uint32_t pid = FirstHostLosesTheConnection(host.get());
  proto::ExecSessionOptions options;
  options.attach = proto::AttachRequest{pid + 1, 4, 0};
  auto status = proto::RunExecSession(next_host_.get(), {}, {-1, -1, -1}, options);
  next_host_.Reset();
  server.join();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message().find("this agent keeps " + std::to_string(pid)),
            std::string::npos)
      << status.error().message();
  EXPECT_FALSE(agent_result.ok());
}

TEST_F(ResumeTest, HostClosingTheConnectionStillEndsTheCommand) {
  auto [host, agent] = SocketPair();
  Result<ExitStatus> agent_result = Error("not run");
  std::thread server([&, fd = agent.get()] { agent_result = ServeExec(fd, Resumable()); });
  ASSERT_TRUE(proto::ExchangeHello(host.get(), proto::Role::kHost, 5000).ok());
  auto request = *proto::EncodeExecRequest(Command({"sleep", "30"}));
  ASSERT_EQ(write(host.get(), request.data(), request.size()), ssize_t(request.size()));
  proto::FrameDecoder decoder;
  uint32_t pid = 0;
  ASSERT_TRUE(ReadFrames(host.get(), decoder, [&](const proto::Frame& frame) {
    if (frame.type == proto::FrameType::kStarted) pid = *proto::DecodeStarted(frame.payload);
    return pid != 0;
  }));
  host.Reset();  // an orderly close: EOF, not a lost connection
  server.join();
  ASSERT_FALSE(agent_result.ok());
  EXPECT_NE(agent_result.error().message().find("host closed"), std::string::npos);
  EXPECT_EQ(reconnects_, 0);
  EXPECT_TRUE(ProcessGone(static_cast<pid_t>(pid)));
}

TEST_F(ExecServerTest, IncompatibleHostIsRefused) {
  auto [host, agent] = SocketPair();
  Result<ExitStatus> agent_result = Error("not run");
  std::thread server([&, fd = agent.get()] { agent_result = ServeExec(fd); });
  auto hello = proto::EncodeHello({proto::kProtocolMajor + 1, 0, proto::Role::kHost, "vk 9"});
  ASSERT_EQ(write(host.get(), hello.data(), hello.size()), ssize_t(hello.size()));
  proto::FrameDecoder decoder;
  std::string error;
  ReadFrames(host.get(), decoder, [&](const proto::Frame& frame) {
    if (frame.type == proto::FrameType::kError) error = proto::DecodeError(frame.payload);
    return !error.empty();
  });
  host.Reset();
  server.join();
  EXPECT_NE(error.find("incompatible exec protocol"), std::string::npos) << error;
  EXPECT_FALSE(agent_result.ok());
}

TEST_F(ExecServerTest, InvalidRequestIsRefusedWithAnErrorFrame) {
  auto [host, agent] = SocketPair();
  Result<ExitStatus> agent_result = Error("not run");
  std::thread server([&, fd = agent.get()] { agent_result = ServeExec(fd); });
  ASSERT_TRUE(proto::ExchangeHello(host.get(), proto::Role::kHost, 5000).ok());
  auto frame = proto::EncodeFrame(proto::FrameType::kExecRequest,
                                  proto::EncodeExecRequestPayload(ExecRequest{}));
  ASSERT_EQ(write(host.get(), frame.data(), frame.size()), ssize_t(frame.size()));
  proto::FrameDecoder decoder;
  std::string error;
  ReadFrames(host.get(), decoder, [&](const proto::Frame& frame) {
    if (frame.type == proto::FrameType::kError) error = proto::DecodeError(frame.payload);
    return !error.empty();
  });
  host.Reset();
  server.join();
  EXPECT_NE(error.find("bad exec request: empty argv"), std::string::npos) << error;
  EXPECT_FALSE(agent_result.ok());
}

TEST_F(ExecServerTest, GarbageFromTheHostIsAnErrorNotACrash) {
  auto [host, agent] = SocketPair();
  Result<ExitStatus> agent_result = Error("not run");
  std::thread server([&, fd = agent.get()] { agent_result = ServeExec(fd); });
  ASSERT_TRUE(proto::ExchangeHello(host.get(), proto::Role::kHost, 5000).ok());
  const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0x02, 1, 2, 3};
  ASSERT_EQ(write(host.get(), garbage, sizeof(garbage)), ssize_t(sizeof(garbage)));
  server.join();
  ASSERT_FALSE(agent_result.ok());
  EXPECT_NE(agent_result.error().message().find("bad frame"), std::string::npos);
}

}  // namespace
}  // namespace vk::agent
