// End-to-end: `vk checkpoint` and `vk restore` (docs/snapshots.md,
// "Checkpoints"). A VM comes back with its processes and tmpfs files exactly
// as they were, its wall clock caught up with its downtime, and a checkpoint taken
// with --leave-running restores to that moment later. One VM serves every
// check: a boot costs 30-60 s on PVM hosts, each exec about a second.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
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

TEST_F(CheckpointTest, RestoreWithoutACheckpointSaysWhatToDo) {
  ProcessResult unknown = RunVk({"restore", name_});
  EXPECT_EQ(unknown.exit_code, 125);
  EXPECT_NE(unknown.err.find("no VM named"), std::string::npos) << unknown.err;
  ProcessResult not_running = RunVk({"checkpoint", name_});
  EXPECT_EQ(not_running.exit_code, 125);
}

}  // namespace
}  // namespace vk::e2e
