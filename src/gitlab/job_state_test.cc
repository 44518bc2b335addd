#include "gitlab/job_state.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "base/remove_tree.h"
#include "base/testing/scoped_env.h"
#include "gitlab/reaper.h"

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

}  // namespace
}  // namespace vk::gitlab
