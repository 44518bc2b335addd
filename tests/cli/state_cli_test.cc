// VM names and state directories, tried as a careless user and as another
// local user would: a name never becomes a path outside the VMs directory,
// a refused run removes nothing, and state that is not ours is refused.
// Runs the built `vk` without booting anything (no KVM needed).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include "e2e/vk_process.h"
#include "runtime/vm_state.h"

namespace vk::cli_test {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class StateCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* runtime = std::getenv("XDG_RUNTIME_DIR")) saved_runtime_ = runtime;
    ::unsetenv("XDG_RUNTIME_DIR");
    home_ = dir_.path() + "/home/.local/share/virtkit";
    ::setenv("VIRTKIT_HOME", home_.c_str(), 1);
    fs::create_directories(home_ + "/vms");
    fs::create_directories(home_ + "/blobs");
    std::ofstream(dir_.path() + "/home/precious") << "keep me";
    std::ofstream(home_ + "/blobs/blob") << "cached";
  }
  void TearDown() override {
    ::unsetenv("VIRTKIT_HOME");
    if (!saved_runtime_.empty()) ::setenv("XDG_RUNTIME_DIR", saved_runtime_.c_str(), 1);
  }
  bool NothingLost() const {
    return fs::exists(dir_.path() + "/home/precious") && fs::exists(home_ + "/blobs/blob");
  }
  // A record of a VM that is running: its "VMM" is this test process.
  void FakeRunningVm(const std::string& name) {
    fs::create_directories(home_ + "/vms/" + name);
    VmRecord record;
    record.name = name;
    record.pid = ::getpid();
    record.pid_start_time = ProcessStartTime(record.pid).value_or(0);
    ASSERT_TRUE(WriteVmRecord(VmDir::At(home_ + "/vms/" + name), record).ok());
  }

  e2e::TempDir dir_;
  std::string home_;
  std::string saved_runtime_;
};

// `vk rm ../../../..` once deleted the user's home directory and exited 0.
TEST_F(StateCli, RmOfAPathLikeNameRemovesNothing) {
  for (const std::string& name :
       std::vector<std::string>{"../../../..", "..", "../vms", "/", ".", "a/../../.."}) {
    e2e::ProcessResult rm = e2e::RunVk({"rm", "-f", name});
    EXPECT_EQ(rm.exit_code, 125) << name << ": " << rm.err;
    EXPECT_THAT(rm.err, HasSubstr("invalid VM name")) << name;
  }
  EXPECT_TRUE(NothingLost());
  EXPECT_TRUE(fs::exists(home_ + "/vms"));
}

TEST_F(StateCli, EveryCommandTakingANameChecksIt) {
  for (const char* command : {"logs", "wait", "stop", "exec"}) {
    std::vector<std::string> args{command, "../.."};
    if (std::string(command) == "exec") args.insert(args.end(), {"--", "true"});
    e2e::ProcessResult result = e2e::RunVk(args);
    EXPECT_EQ(result.exit_code, 125) << command << ": " << result.err;
    EXPECT_THAT(result.err, HasSubstr("invalid VM name")) << command;
  }
  EXPECT_TRUE(NothingLost());
}

// `vk run --name ..` refused the name and then emptied the data directory;
// `vk run --name web` for a running web refused and then deleted web's state.
TEST_F(StateCli, RefusedRunRemovesNothing) {
  FakeRunningVm("web");
  std::string disk = dir_.path() + "/disk.ext4";
  std::ofstream(disk) << "not really a disk";
  e2e::ProcessResult taken = e2e::RunVk({"launch", "--name", "web", "--disk", disk, "--", "true"});
  EXPECT_EQ(taken.exit_code, 125) << taken.err;
  EXPECT_THAT(taken.err, HasSubstr("is running"));
  EXPECT_TRUE(fs::exists(home_ + "/vms/web/vm.json"));
  for (const std::string& name : std::vector<std::string>{"..", "../..", "."}) {
    e2e::ProcessResult bad = e2e::RunVk({"launch", "--name", name, "--disk", disk, "--", "true"});
    EXPECT_EQ(bad.exit_code, 125) << bad.err;
    EXPECT_THAT(bad.err, HasSubstr("invalid VM name"));
  }
  EXPECT_TRUE(NothingLost());
  EXPECT_TRUE(fs::exists(home_ + "/vms/web/vm.json"));
}

TEST_F(StateCli, FailedStartLeavesTheNameFree) {
  std::string disk = dir_.path() + "/disk.ext4";
  std::ofstream(disk) << "not an ext4 image";
  e2e::ProcessResult failed = e2e::RunVk({"launch", "--name", "db", "--disk", disk, "--", "true"});
  EXPECT_NE(failed.exit_code, 0);
  EXPECT_FALSE(fs::exists(home_ + "/vms/db")) << failed.err;
}

// --hostname lands on the guest kernel's command line.
TEST_F(StateCli, HostnameIsCheckedBeforeAnythingElse) {
  e2e::ProcessResult result = e2e::RunVk(
      {"run", "--hostname", "a init=/bin/sh", "--pull", "never", "nosuch:1", "--", "true"});
  EXPECT_EQ(result.exit_code, 125);
  EXPECT_THAT(result.err, HasSubstr("invalid hostname"));
}

TEST_F(StateCli, NoHomeIsAnErrorNotTmp) {
  e2e::ProcessResult result = e2e::RunProcess({"env", "-u", "HOME", "-u", "VIRTKIT_HOME", "-u",
                                               "XDG_RUNTIME_DIR", VK_BINARY, "image", "ls"});
  EXPECT_EQ(result.exit_code, 125) << result.out << result.err;
  EXPECT_THAT(result.err, HasSubstr("HOME"));
}

TEST_F(StateCli, StateWritableByOthersIsRefused) {
  ::chmod(home_.c_str(), 0777);
  e2e::ProcessResult result = e2e::RunVk({"image", "ls"});
  EXPECT_EQ(result.exit_code, 125) << result.out;
  EXPECT_THAT(result.err, HasSubstr("chmod go-w"));
  ::chmod((home_ + "/vms").c_str(), 0777);
  ::chmod(home_.c_str(), 0700);
  FakeRunningVm("web");
  e2e::ProcessResult exec = e2e::RunVk({"exec", "web", "--", "true"});
  EXPECT_EQ(exec.exit_code, 125);
  EXPECT_THAT(exec.err, HasSubstr("chmod go-w"));
}

// A second local user (nobody) pointed at our state is refused with a
// message, never served.
TEST_F(StateCli, AnotherUsersStateIsRefused) {
  if (::getuid() != 0) GTEST_SKIP() << "needs root to run vk as a second local user";
  for (fs::path p = dir_.path(); p != p.parent_path(); p = p.parent_path()) {
    ::chmod(p.c_str(), 0755);  // let nobody reach the directory
    if (p == fs::path(dir_.path()).parent_path()) break;
  }
  ::chmod(dir_.path().c_str(), 0755);
  ::chmod((dir_.path() + "/home").c_str(), 0755);
  for (fs::path p = home_; p != dir_.path(); p = p.parent_path()) ::chmod(p.c_str(), 0755);
  e2e::ProcessResult result =
      e2e::RunProcess({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env",
                       "VIRTKIT_HOME=" + home_, VK_BINARY, "image", "ls"});
  EXPECT_EQ(result.exit_code, 125) << result.out << result.err;
  EXPECT_THAT(result.err, HasSubstr("belongs to uid 0"));
}

}  // namespace
}  // namespace vk::cli_test
