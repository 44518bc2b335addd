// End-to-end: `vk launch` boots a busybox ext4 root on the built-in kernel and
// agent. Each test is one guest boot (~30 s on PVM hosts), so every boot
// checks as much as it can.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "e2e/busybox_vm_test.h"

namespace vk::e2e {
namespace {

bool OnPvm() { return std::filesystem::exists("/sys/module/kvm_pvm"); }

class LaunchTest : public BusyboxVmTest {};

TEST_F(LaunchTest, StdoutStderrAndExitCodeReachTheHost) {
  ProcessResult r = Launch({}, {"sh", "-c", "echo out-line; echo err-line >&2; exit 7"});
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_EQ(r.out, "out-line\n");
  EXPECT_NE(r.err.find("err-line\n"), std::string::npos) << r.err;
  // The agent leaves a read-write root clean: no journal to replay.
  ProcessResult fsck = RunProcess({"e2fsck", "-fn", disk_});
  EXPECT_EQ(fsck.exit_code, 0) << fsck.out << fsck.err;
}

TEST_F(LaunchTest, ExitCodeOneAndStdinIsPiped) {
  ProcessResult r = Launch({}, {"sh", "-c", "cat; false"}, "piped-input\n");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, "piped-input\n");
}

TEST_F(LaunchTest, KilledBySignalGives128PlusSignalOnAVkMkextDisk) {
  // This boot uses a root built by our own userspace ext4 writer.
  std::string disk = dir_.path() + "/vk-mkext.ext4";
  ProcessResult made = RunVk({"mkext", dir_.path() + "/rootfs", disk});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  disk_ = disk;
  ProcessResult r = Launch({}, {"sh", "-c", "test -x /bin/busybox && kill -9 $$"});
  EXPECT_EQ(r.exit_code, 128 + 9) << r.err;
}

TEST_F(LaunchTest, CpusMemEnvAndWorkdirReachTheGuest) {
  ProcessResult r =
      Launch({"--cpus", "2", "--mem", "256M", "-e", "GREETING=hi there", "--workdir", "/tmp"},
             {"sh", "-c", "nproc; grep MemTotal /proc/meminfo; echo \"$GREETING\"; pwd"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string expected_cpus = OnPvm() ? "1\n" : "2\n";
  EXPECT_EQ(r.out.substr(0, 2), expected_cpus) << r.out;
  if (OnPvm()) {
    EXPECT_NE(r.err.find("1 vCPU"), std::string::npos) << r.err;
  }
  size_t mem = r.out.find("MemTotal:");
  ASSERT_NE(mem, std::string::npos) << r.out;
  long kib = std::stol(r.out.substr(mem + 9));
  EXPECT_GT(kib, 200 * 1024);
  EXPECT_LE(kib, 256 * 1024);
  EXPECT_NE(r.out.find("hi there\n/tmp\n"), std::string::npos) << r.out;
}

TEST_F(LaunchTest, ReadOnlyDiskRefusesWritesAndHvc0JoinsTheConsole) {
  std::string console = dir_.path() + "/console.log";
  ProcessResult r = Launch({"--read-only", "--console", console},
                           {"sh", "-c", "echo via-hvc0 > /dev/hvc0; echo x > /file"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("Read-only file system"), std::string::npos) << r.err;
  ProcessResult log = RunProcess({"cat", console});
  EXPECT_NE(log.out.find("via-hvc0"), std::string::npos) << log.out;
}

TEST_F(LaunchTest, GuestPoweroffEndsTheVm) {
  ProcessResult r = Launch({}, {"poweroff", "-f"});
  EXPECT_EQ(r.exit_code, 124) << r.err;  // powered off before reporting a status
  EXPECT_NE(r.err.find("powered off"), std::string::npos) << r.err;
}

TEST_F(LaunchTest, GuestRebootEndsTheVm) {
  ProcessResult r = Launch({}, {"reboot", "-f"});
  EXPECT_EQ(r.exit_code, 124) << r.err;
  EXPECT_NE(r.err.find("reboot"), std::string::npos) << r.err;
}

TEST_F(LaunchTest, WithoutCommandRunsTheDisksInitOnTheConsole) {
  // No command: the console is the VM's output; a clean power-off is success.
  ProcessResult r = Launch({}, {});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("DISK-INIT-RAN"), std::string::npos) << r.out << r.err;
}

TEST_F(LaunchTest, KernelPanicIsAnError) {
  ProcessResult r = Launch({"--cmdline", "rdinit=/no-such-init"}, {"true"});
  EXPECT_EQ(r.exit_code, 121) << r.err;
  EXPECT_NE(r.err.find("Kernel panic"), std::string::npos) << r.err;
}

TEST_F(LaunchTest, GuestThatNeverReportsTimesOut) {
  // The shape's warm template first (made once, ~40 s on PVM hosts): the
  // elapsed check below is about --timeout, not about making a template.
  ASSERT_EQ(Launch({}, {"true"}).exit_code, 0);
  ProcessResult r = Launch({"--timeout", "3"}, {"sleep", "1000"});
  EXPECT_EQ(r.exit_code, 122) << r.err;
  EXPECT_NE(r.err.find("timeout"), std::string::npos) << r.err;
  EXPECT_LT(r.elapsed.count(), 20000);
}

TEST(LaunchErrorsTest, MissingDiskIsAClearError) {
  ProcessResult r = RunVk({"launch", "--disk", "/nonexistent/root.ext4", "--", "true"});
  EXPECT_EQ(r.exit_code, 123) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/root.ext4"), std::string::npos) << r.err;
}

TEST(LaunchErrorsTest, CorruptDiskIsAClearError) {
  TempDir dir;
  std::string disk = dir.path() + "/garbage.ext4";
  RunProcess({"sh", "-c", "head -c 1048576 /dev/urandom > " + disk});
  ProcessResult r = RunVk({"launch", "--disk", disk, "--", "true"});
  EXPECT_EQ(r.exit_code, 123) << r.err;
  EXPECT_NE(r.err.find("not an ext4"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace vk::e2e
