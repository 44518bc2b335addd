// End-to-end: `vk checkpoint` and `vk restore` (docs/snapshots.md,
// "Checkpoints"). A VM comes back with its processes and tmpfs files exactly
// as they were, its wall clock caught up with its downtime, and a checkpoint taken
// with --leave-running restores to that moment later. A detached command goes
// on after the restore (same process, its output neither lost nor repeated,
// its exit status the VM's), and a guest connection through the egress is
// reset at once. One VM serves each test's checks: a boot costs 30-60 s on
// PVM hosts, each exec about a second.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "e2e/busybox_vm_test.h"

namespace vk::e2e {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A TCP server on host loopback that accepts connections and holds them
// open without ever sending: a guest reading one blocks until it is reset.
class SilentServer {
 public:
  SilentServer() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof(address);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&address), size);
    ::listen(listener_, 4);
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~SilentServer() {
    stop_ = true;
    thread_.join();
    for (int fd : held_) ::close(fd);
    ::close(listener_);
  }
  int port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  void Serve() {
    while (!stop_) {
      pollfd entry{listener_, POLLIN, 0};
      if (::poll(&entry, 1, 200) <= 0) continue;
      int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      held_.push_back(fd);
      ++accepted_;
    }
  }
  int listener_ = -1;
  int port_ = 0;
  std::vector<int> held_;
  std::atomic<int> accepted_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The numbers of the whole "tick N" lines in `log`, in order (-1 for a
// line that is not "tick" and a number).
std::vector<int> Ticks(const std::string& log) {
  std::vector<int> ticks;
  std::vector<std::string> lines = Lines(log.substr(0, log.rfind('\n') + 1));
  for (const std::string& line : lines) {
    if (line.rfind("tick ", 0) != 0) continue;
    const std::string digits = line.substr(5);
    bool number = !digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos;
    ticks.push_back(number ? std::stoi(digits) : -1);
  }
  return ticks;
}

class CheckpointTest : public BusyboxVmTest {
 protected:
  void SetUp() override {
    BusyboxVmTest::SetUp();
    name_ = "ckpt-" + std::to_string(::getpid());
  }
  void TearDown() override {
    if (!name_.empty()) RunVk({"rm", "-f", name_});
  }
  std::string PsLine() { return PsLineOf(name_); }

  // What must survive a checkpoint, in one exec: the tmpfs file, the sleep
  // (its name and its start time, so a new process with the same pid does
  // not pass), then the guest's wall clock and the host's at that moment.
  struct Probe {
    std::vector<std::string> kept;  // file lines, comm, start time
    long guest_time = 0;
    long host_time = 0;
  };
  Probe ProbeVm(const std::string& pid) {
    ProcessResult r = RunVk({"exec", name_, "--", "sh", "-c",
                             "cat /tmp/kept; cat /proc/" + pid + "/comm; cut -d' ' -f22 /proc/" +
                                 pid + "/stat; date +%s"});
    Probe probe;
    probe.host_time = static_cast<long>(::time(nullptr));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> lines = Lines(r.out);
    EXPECT_EQ(lines.size(), 4u) << r.out;
    if (lines.size() != 4) return probe;
    probe.guest_time = std::stol(lines.back());
    lines.pop_back();
    probe.kept = lines;
    return probe;
  }

  // Polls `vk logs` until `done` accepts it (at most `limit`); returns the last.
  template <typename Done>
  std::string WaitForLog(Done done, std::chrono::seconds limit = std::chrono::seconds(120)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    std::string log;
    while (std::chrono::steady_clock::now() < deadline) {
      log = RunVk({"logs", name_}).out;
      if (done(log)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return log;
  }

  std::string name_;
};

TEST_F(CheckpointTest, RestoredVmHasItsTmpfsFileAndItsSleepingProcess) {
  ProcessResult launched =
      RunVk({"launch", "--disk", disk_, "--name", name_, "-d", "--boot-timeout", "900"});
  ASSERT_EQ(launched.exit_code, 0) << launched.err;

  // setsid: the sleep outlives the exec that started it (its own session).
  ProcessResult started = RunVk({"exec", name_, "--", "sh", "-c",
                                 "echo made-before-the-checkpoint > /tmp/kept; "
                                 "setsid sleep 1000 </dev/null >/dev/null 2>&1 & echo $!"});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  std::string pid = Lines(started.out).at(0);
  Probe before = ProbeVm(pid);
  ASSERT_EQ(before.kept.size(), 3u);
  EXPECT_EQ(before.kept[0], "made-before-the-checkpoint");
  EXPECT_EQ(before.kept[1], "sleep");

  ProcessResult checkpoint = RunVk({"checkpoint", name_});
  ASSERT_EQ(checkpoint.exit_code, 0) << checkpoint.err;
  EXPECT_NE(checkpoint.out.find("/checkpoint"), std::string::npos) << checkpoint.out;
  EXPECT_NE(PsLine().find("checkpointed"), std::string::npos) << PsLine();
  EXPECT_NE(RunVk({"exec", name_, "--", "true"}).exit_code, 0) << "the VM should have ended";
  ProcessResult again = RunVk({"checkpoint", name_});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("vk restore"), std::string::npos) << again.err;
  ProcessResult waited = RunVk({"wait", name_});
  EXPECT_EQ(waited.exit_code, 0) << waited.err;
  EXPECT_NE(waited.err.find("checkpointed"), std::string::npos) << waited.err;

  // Down for a while: the restored guest's clock must catch up with it.
  std::this_thread::sleep_for(std::chrono::seconds(10));
  ProcessResult restored = RunVk({"restore", name_, "--boot-timeout", "300"});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(restored.out, name_ + "\n");
  EXPECT_NE(PsLine().find("running"), std::string::npos) << PsLine();
  ProcessResult twice = RunVk({"restore", name_});
  EXPECT_NE(twice.exit_code, 0) << "a running VM was restored again";

  Probe after = ProbeVm(pid);
  EXPECT_EQ(after.kept, before.kept) << "the file or the sleep did not come back";
  long guest_elapsed = after.guest_time - before.guest_time;
  long host_elapsed = after.host_time - before.host_time;
  EXPECT_NEAR(guest_elapsed, host_elapsed, 3) << "the guest clock did not catch up its downtime";

  // --leave-running: the VM goes on; later changes are not in the checkpoint.
  ProcessResult leave = RunVk({"checkpoint", "--leave-running", name_});
  ASSERT_EQ(leave.exit_code, 0) << leave.err;
  EXPECT_NE(PsLine().find("running"), std::string::npos) << PsLine();
  ProcessResult later = RunVk(
      {"exec", name_, "--", "sh", "-c", "echo made-after-the-checkpoint > /tmp/kept; kill " + pid});
  EXPECT_EQ(later.exit_code, 0) << later.err;

  // Powered off, then back to the moment of the --leave-running checkpoint.
  ProcessResult stopped = RunVk({"stop", "--time", "30", name_});
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  ProcessResult back = RunVk({"restore", name_, "--boot-timeout", "300"});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  Probe last = ProbeVm(pid);
  EXPECT_EQ(last.kept, before.kept) << "the second restore is not the checkpoint's moment";
}

// `vk launch -d --net -- CMD`, checkpointed and restored: the command (a
// counting loop) goes on where it was, its output in `vk logs` has every tick
// exactly once, and its exit status ends the VM as if it had never been
// saved. A guest `nc` blocked reading an idle connection through the egress
// ends right after the restore instead of hanging.
TEST_F(CheckpointTest, DetachedCommandGoesOnAndEgressConnectionsAreReset) {
  SilentServer server;
  // A second per tick without a fork (`read -t` on a fifo nobody writes):
  // guest forks cost seconds on a loaded PVM host.
  const std::string loop =
      "mkfifo /tmp/idle; exec 3<>/tmp/idle; echo pid $$; i=0; while [ ! -e /tmp/stop ]; do "
      "echo tick $i; i=$((i+1)); read -t 1 x <&3; done; echo stopping; exit 7";
  ProcessResult launched = RunVk({"launch", "--disk", disk_, "--name", name_, "-d", "--net",
                                  "--boot-timeout", "900", "--", "sh", "-c", loop});
  ASSERT_EQ(launched.exit_code, 0) << launched.err;
  // `-d` returns once the agent answers, maybe before the command runs.
  std::string before = WaitForLog([](const std::string& log) { return Ticks(log).size() >= 3; });
  ASSERT_GE(Ticks(before).size(), 3u) << before;
  // nc's stdin is the loop's fifo, which never ends (the loop holds it open
  // for writing too), so nc only waits on the socket. 192.168.127.1 is
  // host.lan, the host's loopback, without a DNS lookup.
  ProcessResult nc = RunVk({"exec", name_, "--", "sh", "-c",
                            "(nc 192.168.127.1 " + std::to_string(server.port()) +
                                " < /tmp/idle; echo nc-ended > /tmp/nc.done) "
                                "</dev/null >/dev/null 2>&1 &"});
  ASSERT_EQ(nc.exit_code, 0) << nc.err;
  for (int i = 0; i < 960 && server.accepted() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  ASSERT_EQ(server.accepted(), 1) << "the guest's nc did not reach the host through the egress";
  const size_t pid_at = before.find("pid ");
  ASSERT_NE(pid_at, std::string::npos) << before;
  const std::string pid_line = before.substr(pid_at, before.find('\n', pid_at) - pid_at);

  ProcessResult checkpoint = RunVk({"checkpoint", name_});
  ASSERT_EQ(checkpoint.exit_code, 0) << checkpoint.err;
  const size_t ticks_saved = Ticks(RunVk({"logs", name_}).out).size();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(Ticks(RunVk({"logs", name_}).out).size(), ticks_saved) << "ticks while saved";

  ProcessResult restored = RunVk({"restore", name_, "--boot-timeout", "300"});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  const auto restored_at = std::chrono::steady_clock::now();
  // The reader blocked on the egress connection is woken by the reset,
  // which `vk restore` asks for before it returns. (Generous limit: one
  // exec takes seconds on a loaded PVM host; without the reset nc waits
  // forever.)
  std::string nc_done;
  int probes = 0;
  while (nc_done.empty() &&
         std::chrono::steady_clock::now() - restored_at < std::chrono::seconds(120)) {
    nc_done = RunVk({"exec", name_, "--", "cat", "/tmp/nc.done"}).out;
    ++probes;
  }
  EXPECT_EQ(nc_done, "nc-ended\n") << "nc still blocked in recv after the restore";
  std::printf("nc ended %.1f s after the restore (%d probes)\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - restored_at).count(),
              probes);

  // The same loop counts on: later ticks arrive, every number exactly once.
  std::string after =
      WaitForLog([&](const std::string& log) { return Ticks(log).size() >= ticks_saved + 3; });
  std::vector<int> ticks = Ticks(after);
  ASSERT_GE(ticks.size(), ticks_saved + 3) << after;
  for (size_t i = 0; i < ticks.size(); ++i) ASSERT_EQ(ticks[i], int(i)) << after;
  const std::string pid = pid_line.substr(4);
  ProcessResult alive = RunVk({"exec", name_, "--", "cat", "/proc/" + pid + "/comm"});
  EXPECT_EQ(alive.out, "sh\n") << "the command is not the same process";

  // Its exit status is the VM's, as if it had never been checkpointed.
  ProcessResult stop = RunVk({"exec", name_, "--", "touch", "/tmp/stop"});
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  ProcessResult waited = RunVk({"wait", name_});
  EXPECT_EQ(waited.exit_code, 7) << waited.err;
  EXPECT_EQ(waited.out, "7\n");
  EXPECT_NE(PsLine().find("exited (7)"), std::string::npos) << PsLine();
  std::string last = RunVk({"logs", name_}).out;
  EXPECT_NE(last.find("stopping\n"), std::string::npos) << last;
  EXPECT_EQ(last.find(pid_line + "\n", pid_at + 1), std::string::npos) << "output repeated:\n"
                                                                       << last;
}

TEST_F(CheckpointTest, RestoreWithoutACheckpointSaysWhatToDo) {
  ProcessResult unknown = RunVk({"restore", name_});
  EXPECT_EQ(unknown.exit_code, 125);
  EXPECT_NE(unknown.err.find("no VM named"), std::string::npos) << unknown.err;
  ProcessResult not_running = RunVk({"checkpoint", name_});
  EXPECT_EQ(not_running.exit_code, 125);
}

}  // namespace
}  // namespace vk::e2e
