#include "gitlab/job_state.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>

#include "base/remove_tree.h"
#include "base/testing/scoped_env.h"
#include "gitlab/reaper.h"
#include "runtime/vm_dir.h"
#include "runtime/vm_state.h"

namespace vk::gitlab {
namespace {

class GitlabJobStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/gitlab-state-XXXXXX";
    root_ = ::mkdtemp(dir);
    home_ = root_ + "/home";
    std::filesystem::create_directory(home_);
    ::chmod(home_.c_str(), 0700);
  }
  void TearDown() override { (void)RemoveTreeWithin("/tmp", root_); }

  std::string root_, home_;
};

TEST_F(GitlabJobStateTest, RecordRoundTripAndRemove) {
  JobStates states(home_);
  ASSERT_TRUE(states.Create("gl-1-0-5", {100, "", ""}).ok());
  EXPECT_EQ(states.Create("gl-1-0-5", {}).error().kind(), ErrorKind::kConflict);
  struct stat st {};
  ASSERT_EQ(::stat(states.Path("gl-1-0-5").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);  // the job's scripts hold its secrets
  ASSERT_EQ(::stat(states.ScriptsDir("gl-1-0-5").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);  // any guest user reads them
  ASSERT_TRUE(states.Write("gl-1-0-5", {100, "/usr/bin/bash", "build"}).ok());
  auto record = states.Read("gl-1-0-5");
  ASSERT_TRUE(record.ok()) << record.error().message();
  EXPECT_EQ(record->created, 100);
  EXPECT_EQ(record->shell, "/usr/bin/bash");
  EXPECT_EQ(record->user, "build");
  EXPECT_EQ(states.Names(), std::vector<std::string>{"gl-1-0-5"});
  EXPECT_EQ(states.Remove("gl-1-0-5").value(), RemoveOutcome::kRemoved);
  EXPECT_EQ(states.Remove("gl-1-0-5").value(), RemoveOutcome::kAbsent);
  EXPECT_EQ(states.Read("gl-1-0-5").error().kind(), ErrorKind::kNotFound);
  EXPECT_TRUE(states.Names().empty());
}

TEST_F(GitlabJobStateTest, NamesAreChecked) {
  JobStates states(home_);
  EXPECT_FALSE(states.Create("../escape", {}).ok());
  EXPECT_FALSE(states.Remove("..").ok());
  EXPECT_FALSE(states.Read("a/b").ok());
}

TEST_F(GitlabJobStateTest, NothingToRemoveBeforeTheFirstJob) {
  EXPECT_EQ(JobStates(home_).Remove("gl-1-0-5").value(), RemoveOutcome::kAbsent);
}

TEST_F(GitlabJobStateTest, ReaperRemovesOnlyOldJobs) {
  testing::ScopedEnv home("VIRTKIT_HOME", home_);
  testing::ScopedEnv runtime("XDG_RUNTIME_DIR", std::nullopt);
  JobStates states(home_);
  ASSERT_TRUE(states.Create("gl-1-0-1", {1000, "", ""}).ok());
  ASSERT_TRUE(states.Create("gl-1-0-2", {1000 + 7000, "", ""}).ok());
  auto lines = ReapStrays(states, std::chrono::hours(2), 1000 + 7300);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("gl-1-0-1"), std::string::npos) << lines[0];
  EXPECT_EQ(states.Names(), std::vector<std::string>{"gl-1-0-2"});
}

// A VM record as a job VM's VMM leaves it once ended (no process to kill:
// the reaper's removal of the VM's state is what is checked).
void MakeVm(const std::string& name, const VmRecord& base) {
  auto dir = VmDir::CreateNamed(name);
  ASSERT_TRUE(dir.ok()) << dir.error().message();
  VmRecord record = base;
  record.name = name;
  ASSERT_TRUE(WriteVmRecord(*dir, record).ok());
  dir->Keep();
}

VmRecord Ended() {
  VmRecord record;
  record.exit_code = 0;
  return record;
}

bool VmExists(const std::string& name) {
  auto dir = VmDir::Named(name);
  return dir.ok() && std::filesystem::exists(dir->Record());
}

// A stand-in VMM: a child process a VM record can name as running, killed
// and reaped at the end whatever the reaper did to it.
class FakeVmm {
 public:
  FakeVmm() : pid_(::fork()) {
    if (pid_ == 0) {
      ::pause();
      ::_exit(0);
    }
  }
  ~FakeVmm() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  FakeVmm(const FakeVmm&) = delete;
  FakeVmm& operator=(const FakeVmm&) = delete;

  // Running since `seconds_ago`, as its VMM would have recorded it.
  VmRecord Running(int64_t seconds_ago) const {
    VmRecord record;
    record.pid = pid_;
    record.pid_start_time = ProcessStartTime(pid_).value_or(0);
    record.created = static_cast<int64_t>(std::time(nullptr)) - seconds_ago;
    return record;
  }
  bool Alive() const { return ::waitpid(pid_, nullptr, WNOHANG) == 0; }

 private:
  pid_t pid_;
};

// The other half of point 4 of the custom executor's contract: job VMs
// that no job will clean up go with the next prepare's reaping: a job's
// whose state is too old, and one without job state once it ended or is
// older than stray_age. A young job's VM, a running one without our state
// (another data dir's live job) and VMs that are not job VMs stay.
TEST_F(GitlabJobStateTest, ReaperRemovesStrayJobVms) {
  testing::ScopedEnv home("VIRTKIT_HOME", home_);
  testing::ScopedEnv runtime("XDG_RUNTIME_DIR", std::nullopt);
  JobStates states(home_);
  ASSERT_TRUE(states.Create("gl-1-0-1", {1000, "", ""}).ok());         // a cleanup never came
  ASSERT_TRUE(states.Create("gl-1-0-2", {1000 + 7000, "", ""}).ok());  // running
  FakeVmm young, old;
  ASSERT_GT(young.Running(0).pid_start_time, 0u);
  ASSERT_NO_FATAL_FAILURE(MakeVm("gl-1-0-1", Ended()));
  ASSERT_NO_FATAL_FAILURE(MakeVm("gl-1-0-2", Ended()));
  ASSERT_NO_FATAL_FAILURE(MakeVm("gl-1-0-3", Ended()));                // its job state is gone
  ASSERT_NO_FATAL_FAILURE(MakeVm("gl-1-0-4", young.Running(60)));      // another data dir's
  ASSERT_NO_FATAL_FAILURE(MakeVm("gl-1-0-5", old.Running(3 * 3600)));  // nobody's for 3 h
  ASSERT_NO_FATAL_FAILURE(MakeVm("web", Ended()));                     // not a job VM
  auto lines = ReapStrays(states, std::chrono::hours(2), 1000 + 7300);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find("removed the stray job gl-1-0-1"), std::string::npos) << lines[0];
  std::sort(lines.begin() + 1, lines.end());  // in the VMs directory's order
  EXPECT_NE(lines[1].find("removed the job VM gl-1-0-3"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("removed the job VM gl-1-0-5"), std::string::npos) << lines[2];
  EXPECT_FALSE(VmExists("gl-1-0-1"));
  EXPECT_TRUE(VmExists("gl-1-0-2"));
  EXPECT_FALSE(VmExists("gl-1-0-3"));
  EXPECT_TRUE(VmExists("gl-1-0-4"));
  EXPECT_TRUE(young.Alive());
  EXPECT_FALSE(VmExists("gl-1-0-5"));
  EXPECT_FALSE(old.Alive());  // its VMM killed with it
  EXPECT_TRUE(VmExists("web"));
  EXPECT_EQ(states.Names(), std::vector<std::string>{"gl-1-0-2"});
  // Nothing left to reap: the next prepare's pass changes nothing.
  EXPECT_TRUE(ReapStrays(states, std::chrono::hours(2), 1000 + 7300).empty());
  EXPECT_TRUE(VmExists("gl-1-0-2"));
}

}  // namespace
}  // namespace vk::gitlab
