// End-to-end: long-running VMs. One detached VM serves many checks (a boot
// costs ~30 s on PVM hosts): concurrent execs, exit codes, stdin, ps, stop.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <string>
#include <vector>

#include "e2e/busybox_vm_test.h"
#include "e2e/tmux_shell.h"

namespace vk::e2e {
namespace {

class LifecycleTest : public BusyboxVmTest {
 protected:
  void SetUp() override {
    BusyboxVmTest::SetUp();
    name_ = "e2e-" + std::to_string(::getpid());
  }
  void TearDown() override {
    if (!name_.empty()) RunVk({"rm", "-f", name_});
  }
  std::string PsLine() { return PsLineOf(name_); }

  std::string name_;
};

constexpr int kConcurrentExecs = 6;

TEST_F(LifecycleTest, DetachedVmServesConcurrentExecsAndStopsCleanly) {
  ProcessResult launched =
      RunVk({"launch", "--disk", disk_, "--name", name_, "-d", "--boot-timeout", "900"});
  ASSERT_EQ(launched.exit_code, 0) << launched.err;
  EXPECT_EQ(launched.out, name_ + "\n");
  EXPECT_NE(PsLine().find("running"), std::string::npos) << PsLine();

  // Execs at once, each with its own output and exit code (6: every exec
  // forks in the guest, ~2-5 s of emulated kernel work on PVM hosts).
  std::vector<std::future<ProcessResult>> execs;
  for (int i = 0; i < kConcurrentExecs; ++i) {
    execs.push_back(std::async(std::launch::async, [this, i] {
      return RunVk({"exec", name_, "--", "sh", "-c",
                    "echo out-" + std::to_string(i) + "; exit " + std::to_string(i % 5)});
    }));
  }
  for (int i = 0; i < kConcurrentExecs; ++i) {
    ProcessResult r = execs[i].get();
    EXPECT_EQ(r.exit_code, i % 5) << r.err;
    EXPECT_EQ(r.out, "out-" + std::to_string(i) + "\n");
  }

  ProcessResult piped = RunVk({"exec", "-i", name_, "--", "cat"}, "through stdin\n");
  EXPECT_EQ(piped.out, "through stdin\n");
  ProcessResult hostname = RunVk({"exec", name_, "--", "hostname"});
  EXPECT_EQ(hostname.out, name_ + "\n");
  ProcessResult missing = RunVk({"exec", name_, "--", "no-such-command"});
  EXPECT_EQ(missing.exit_code, 127);
  ProcessResult user = RunVk({"exec", "-u", "nobody", name_, "--", "id", "-u"});
  EXPECT_EQ(user.out, "65534\n");

  // The VMM's own memory beyond the guest's pages (issue 12: <= 5 MiB,
  // Firecracker's figure), idle after those execs. Measured 3.1-3.7 MiB; the
  // margin of 1 MiB covers what varies from run to run: which neighbours the
  // kernel's fault-around maps back with each code page the VM touches again
  // (+-0.6 MiB seen) and the exec sessions' buffers.
  ::sleep(2);
  VmmMemory memory = VmmMemoryOf(name_);
  EXPECT_GT(memory.guest_kib, 0) << "no guest memory mapping found";
  EXPECT_LE(memory.overhead_kib(), 6 * 1024)
      << "RSS " << memory.rss_kib << " KiB, guest " << memory.guest_kib << " KiB";

  // A guest TCP server, reached from host loopback through `vk forward`.
  ProcessResult httpd = RunVk({"exec", name_, "--", "sh", "-c",
                               "mkdir -p /tmp/www && echo page-from-guest > /tmp/www/index.html "
                               "&& httpd -p 8080 -h /tmp/www"});
  EXPECT_EQ(httpd.exit_code, 0) << httpd.err;
  std::string host_port = std::to_string(20000 + ::getpid() % 20000);
  pid_t forward = ::fork();
  if (forward == 0) {
    ::execl(VK_BINARY, VK_BINARY, "forward", name_.c_str(),
            ("127.0.0.1:" + host_port + ":8080").c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ProcessResult page;
  for (int i = 0; i < 40 && page.out.empty(); ++i) {
    ::usleep(250000);
    page = RunProcess(
        {"/bin/busybox", "wget", "-q", "-O", "-", "http://127.0.0.1:" + host_port + "/"});
  }
  EXPECT_EQ(page.out, "page-from-guest\n") << page.err;
  ::kill(forward, SIGTERM);
  ::waitpid(forward, nullptr, 0);

  ProcessResult stopped = RunVk({"stop", "--time", "20", name_});
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_LT(stopped.elapsed.count(), 20000);
  EXPECT_NE(PsLine().find("exited (0)"), std::string::npos) << PsLine();
  ProcessResult waited = RunVk({"wait", name_});
  EXPECT_EQ(waited.exit_code, 0);
  EXPECT_EQ(RunVk({"rm", name_}).exit_code, 0);
  EXPECT_EQ(PsLine(), "");
}

TEST_F(LifecycleTest, InteractiveShellThenKilledVmmIsReportedDeadAndRemoved) {
  ProcessResult launched =
      RunVk({"launch", "--disk", disk_, "--name", name_, "-d", "--boot-timeout", "900"});
  ASSERT_EQ(launched.exit_code, 0) << launched.err;

  // An interactive shell on a terminal, driven through tmux: type, resize,
  // ^C a sleep, and the shell's exit code comes back.
  std::string session = "vk-" + name_;
  std::string status_file = dir_.path() + "/status";
  ExerciseShell(session, std::string(VK_BINARY) + " exec -it " + name_ + " -- sh", status_file,
                "~ #");

  // vk connect: a guest port nobody listens on is refused (vsock RST).
  ProcessResult refused = RunVk({"connect", name_, "9"}, "x");
  EXPECT_EQ(refused.exit_code, 125);
  EXPECT_NE(refused.err.find("refused"), std::string::npos) << refused.err;

  ProcessResult pid = RunProcess({"sh", "-c",
                                  "sed -n 's/.*\"pid\": \\([0-9]*\\).*/\\1/p' " +
                                      std::string(VmDirectoryForTest(name_)) + "/vm.json"});
  ASSERT_FALSE(pid.out.empty());
  ASSERT_EQ(::kill(std::stoi(pid.out), SIGKILL), 0);
  for (int i = 0; i < 50 && PsLine().find("dead") == std::string::npos; ++i) ::usleep(100000);
  EXPECT_NE(PsLine().find("dead"), std::string::npos) << PsLine();
  EXPECT_EQ(RunVk({"exec", name_, "--", "true"}).exit_code, 125);
  EXPECT_EQ(RunVk({"rm", name_}).exit_code, 0);
  EXPECT_EQ(PsLine(), "");
}

}  // namespace
}  // namespace vk::e2e
