// VmDir: where a VM's state lives and what every file in it is called, and
// NamedVm: finding, stopping and removing VMs through it. Runs in a private
// XDG_RUNTIME_DIR; no KVM needed (a sleeping child stands in for a VMM).
#include "runtime/vm_dir.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <thread>

#include "base/remove_tree.h"
#include "base/testing/scoped_env.h"
#include "runtime/named_vm.h"
#include "runtime/vm_state.h"

namespace vk {
namespace {

namespace fs = std::filesystem;

using testing::ScopedEnv;

class VmDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/vk-vmdir-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    runtime_ = pattern;
    const char* old = std::getenv("XDG_RUNTIME_DIR");
    if (old) saved_ = old;
    ::setenv("XDG_RUNTIME_DIR", runtime_.c_str(), 1);
  }
  void TearDown() override {
    if (saved_.empty()) {
      ::unsetenv("XDG_RUNTIME_DIR");
    } else {
      ::setenv("XDG_RUNTIME_DIR", saved_.c_str(), 1);
    }
    (void)RemoveTreeWithin(fs::path(runtime_).parent_path().string(), runtime_);
  }
  std::string Root() const { return runtime_ + "/virtkit/vms"; }

  std::string runtime_, saved_;
};

TEST_F(VmDirTest, EveryNameIsInsideTheVmsDirectory) {
  VmDir dir = VmDir::Named("web").value();
  EXPECT_EQ(dir.path(), Root() + "/web");
  EXPECT_EQ(dir.Record(), Root() + "/web/vm.json");
  EXPECT_EQ(dir.ExecSocket(), Root() + "/web/exec.sock");
  EXPECT_EQ(dir.ControlSocket(), Root() + "/web/control.sock");
  EXPECT_EQ(dir.VsockSocket(), Root() + "/web/vsock.sock");
  EXPECT_EQ(dir.GuestConnectSocket(4446), Root() + "/web/vsock.sock_4446");
  EXPECT_EQ(dir.VmmSocket(), Root() + "/web/vmm.sock");
  EXPECT_EQ(dir.ConsoleLog(), Root() + "/web/console.log");
  EXPECT_EQ(dir.VmmLog(), Root() + "/web/vm.log");
  EXPECT_EQ(dir.Checkpoint(), Root() + "/web/checkpoint");
}

TEST_F(VmDirTest, PathLikeNamesAreUsageErrorsNeverPaths) {
  for (const char* name : {"../..", "a/b", "", ".", "-x", "/etc"}) {
    auto dir = VmDir::Named(name);
    ASSERT_FALSE(dir.ok()) << name;
    EXPECT_EQ(dir.error().kind(), ErrorKind::kUsage) << name;
  }
}

TEST_F(VmDirTest, ANewVmDirGoesAwayUnlessKept) {
  std::string path;
  {
    VmDir dir = VmDir::CreateNamed("short-lived").value();
    path = dir.path();
    EXPECT_TRUE(fs::is_directory(path));
    EXPECT_EQ(fs::status(path).permissions() & fs::perms::all, fs::perms::owner_all);
  }
  EXPECT_FALSE(fs::exists(path));  // a failed start leaves no name taken
  {
    VmDir dir = VmDir::CreateNamed("kept").value();
    dir.Keep();
    path = dir.path();
  }
  EXPECT_TRUE(fs::is_directory(path));
}

TEST_F(VmDirTest, ATakenNameIsAConflict) {
  VmDir first = VmDir::CreateNamed("twin").value();
  auto second = VmDir::CreateNamed("twin");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().kind(), ErrorKind::kConflict);
  EXPECT_TRUE(fs::is_directory(first.path()));  // the loser removed nothing
}

TEST_F(VmDirTest, NamedVmFindsListsAndRemovesByRecord) {
  EXPECT_EQ(NamedVm::Find("ghost").error().kind(), ErrorKind::kNotFound);
  for (const char* name : {"b-vm", "a-vm"}) {
    VmDir dir = VmDir::CreateNamed(name).value();
    dir.Keep();
    VmRecord record;
    record.name = name;
    record.exit_code = 0;  // ended: no VMM to stop
    record.publish = {"127.0.0.1:8080:80", "5353:53/udp"};
    record.env = {"PATH=/bin", "A=b c"};
    ASSERT_TRUE(WriteVmRecord(dir, record).ok());
  }
  std::vector<NamedVm> vms = NamedVm::List();
  ASSERT_EQ(vms.size(), 2u);
  EXPECT_EQ(vms[0].name(), "a-vm");
  EXPECT_EQ(vms[0].State(), VmState::kExited);
  EXPECT_EQ(vms[0].record().publish,
            (std::vector<std::string>{"127.0.0.1:8080:80", "5353:53/udp"}));
  EXPECT_EQ(vms[0].record().env, (std::vector<std::string>{"PATH=/bin", "A=b c"}));
  auto found = NamedVm::Find("b-vm");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->ConnectExec().error().kind(), ErrorKind::kConflict);  // not running
  ASSERT_TRUE(found->Remove(RemoveMode::kRefuseRunning).ok());
  EXPECT_FALSE(fs::exists(Root() + "/b-vm"));
  EXPECT_EQ(NamedVm::List().size(), 1u);
}

// A program whose supervisors run with VIRTKIT_HOME=DATA (the library's
// Options::data_dir) finds their VMs without XDG_RUNTIME_DIR or VIRTKIT_HOME
// of its own.
TEST_F(VmDirTest, VmsOfAnotherDataDirAreFoundThroughItsRoot) {
  ScopedEnv no_runtime("XDG_RUNTIME_DIR", std::nullopt);
  const std::string data = runtime_ + "/data";
  EXPECT_EQ(VmDir::RootFor(data), data + "/vms");
  {
    ScopedEnv home("VIRTKIT_HOME", data);  // as the supervisor runs
    VmDir dir = VmDir::CreateNamed("elsewhere").value();
    dir.Keep();
    VmRecord record;
    record.name = "elsewhere";
    record.exit_code = 0;
    ASSERT_TRUE(WriteVmRecord(dir, record).ok());
  }
  ScopedEnv home("VIRTKIT_HOME", runtime_ + "/other");
  EXPECT_EQ(NamedVm::Find("elsewhere").error().kind(), ErrorKind::kNotFound);
  auto found = NamedVm::Find("elsewhere", VmDir::RootFor(data));
  ASSERT_TRUE(found.ok()) << found.error().message();
  EXPECT_EQ(found->dir().path(), data + "/vms/elsewhere");
  EXPECT_EQ(NamedVm::List(VmDir::RootFor(data)).size(), 1u);
  ScopedEnv runtime("XDG_RUNTIME_DIR", runtime_);
  EXPECT_EQ(VmDir::RootFor(data), Root());  // XDG_RUNTIME_DIR wins, as for vk itself
}

TEST_F(VmDirTest, StopKillsAVmmThatDoesNotPowerOffAndRemoveRefusesRunningVms) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::pause();  // a "VMM" with no control socket: it never powers off
    ::_exit(0);
  }
  VmDir dir = VmDir::CreateNamed("stuck").value();
  dir.Keep();
  VmRecord record;
  record.name = "stuck";
  record.pid = child;
  record.pid_start_time = ProcessStartTime(child).value_or(0);
  ASSERT_TRUE(WriteVmRecord(dir, record).ok());
  NamedVm vm = NamedVm::Find("stuck").value();
  EXPECT_TRUE(vm.Running());
  auto refused = vm.Remove(RemoveMode::kRefuseRunning);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind(), ErrorKind::kConflict);
  std::thread reaper([child] { ::waitpid(child, nullptr, 0); });  // as init would
  EXPECT_EQ(vm.Stop(std::chrono::milliseconds(200)), StopOutcome::kKilled);
  reaper.join();
  EXPECT_FALSE(vm.Running());
  EXPECT_TRUE(vm.Remove(RemoveMode::kRefuseRunning).ok());
}

}  // namespace
}  // namespace vk
