// The harness itself, against a shell-script driver: the environment it
// builds, the stage script shape, the process-group kill. No KVM.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "gitlab/runner_harness.h"

namespace vk::gitlab_test {
namespace {

namespace fs = std::filesystem;

// A driver that prints its argv and environment, and for `run` executes
// the script with bash, as a minimal custom-executor driver does.
class ShellDriver {
 public:
  ShellDriver() {
    char dir[] = "/tmp/gitlab-harness-XXXXXX";
    path_ = std::string(::mkdtemp(dir)) + "/driver.sh";
    std::ofstream(path_) << R"(#!/bin/sh
stage=$1; shift
case $stage in
  config) echo '{"builds_dir":"/b","job_env":{"DRIVER_STATE":"from-config"}}' ;;
  prepare) env | sort > "$TMPDIR/prepare.env"; pwd > "$TMPDIR/prepare.pwd"
           if [ -n "$HARNESS_SLEEP" ]; then sleep 1000 & sleep 1000; fi ;;
  run) bash "$1"; rc=$?; [ $rc = 0 ] || { echo $rc > "$BUILD_EXIT_CODE_FILE"; exit "$BUILD_FAILURE_EXIT_CODE"; } ;;
  cleanup) env | sort > "$TMPDIR/cleanup.env" ;;
esac
)";
    fs::permissions(path_, fs::perms::owner_all);
  }
  ~ShellDriver() { fs::remove_all(fs::path(path_).parent_path()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(GitlabHarnessTest, EnvironmentFollowsTheRunner) {
  ShellDriver driver;
  Job job;
  job.variables["CI_JOB_IMAGE"] = "debian:bookworm";
  FakeRunner runner({driver.path()}, {}, job);
  ASSERT_EQ(runner.Config().exit_code, 0);
  EXPECT_EQ(runner.job_env().at("DRIVER_STATE"), "from-config");
  ASSERT_EQ(runner.Prepare().exit_code, 0);
  std::string env = Slurp(runner.temp_dir() + "/prepare.env");
  EXPECT_NE(env.find("BUILD_FAILURE_EXIT_CODE=1\n"), std::string::npos);
  EXPECT_NE(env.find("SYSTEM_FAILURE_EXIT_CODE=2\n"), std::string::npos);
  EXPECT_NE(env.find("JOB_RESPONSE_FILE=" + runner.temp_dir() + "/response.json\n"),
            std::string::npos);
  EXPECT_NE(env.find("BUILD_EXIT_CODE_FILE=" + runner.temp_dir() + "/build_exit_code\n"),
            std::string::npos);
  EXPECT_NE(env.find("TMPDIR=" + runner.temp_dir() + "\n"), std::string::npos);
  EXPECT_NE(env.find("CUSTOM_ENV_CI_JOB_IMAGE=debian:bookworm\n"), std::string::npos);
  EXPECT_NE(env.find("CUSTOM_ENV_CI_JOB_ID=1001\n"), std::string::npos);
  EXPECT_NE(env.find("CUSTOM_ENV_CI_CONCURRENT_PROJECT_ID=0\n"), std::string::npos);
  EXPECT_NE(env.find("DRIVER_STATE=from-config\n"), std::string::npos);  // job_env
  EXPECT_EQ(Slurp(runner.temp_dir() + "/prepare.pwd"), runner.temp_dir() + "\n");
  std::string response = Slurp(runner.temp_dir() + "/response.json");
  EXPECT_NE(response.find("\"id\":1001"), std::string::npos) << response;
  EXPECT_NE(response.find("\"project_id\":42"), std::string::npos) << response;
}

TEST(GitlabHarnessTest, StageScriptStopsAtTheFirstFailure) {
  ShellDriver driver;
  FakeRunner runner({driver.path()}, {}, Job{});
  CallResult ok = runner.Run("build_script", "echo \"job $CI_JOB_ID\"\n");
  EXPECT_EQ(ok.exit_code, 0);
  EXPECT_EQ(ok.out, "job 1001\n");
  CallResult failed = runner.Run("build_script", "echo before\n(exit 3)\necho after\n");
  EXPECT_EQ(failed.exit_code, kBuildFailure);
  EXPECT_EQ(failed.out, "before\n");
  EXPECT_EQ(runner.BuildExitCode(), "3\n");
}

TEST(GitlabHarnessTest, QuotingKeepsEveryByte) {
  ShellDriver driver;
  Job job;
  job.variables["TRICKY"] = "it's a \"$HOME\" \\ `x`\n\ttab \x01";
  FakeRunner runner({driver.path()}, {}, job);
  CallResult r = runner.Run("build_script", "printf '%s' \"$TRICKY\" > \"$TMPDIR/tricky\"\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Slurp(runner.temp_dir() + "/tricky"), job.variables["TRICKY"]);
}

TEST(GitlabHarnessTest, ScriptShapeIsTheRunners) {
  std::string script = FakeRunner::StageScript("make\n");
  EXPECT_EQ(script,
            "#!/usr/bin/env bash\n\ntrap 'exit 1' TERM\n\n"
            "case \"$(set -o)\" in *\"pipefail\"*) set -o pipefail;; esac; set -o errexit\n"
            "set +o noclobber\n(trap 'exit 1' TERM; eval $'make\\n') < /dev/null\nexit 0\n");
}

TEST(GitlabHarnessTest, KillReachesTheWholeGroup) {
  ShellDriver driver;
  ::setenv("HARNESS_SLEEP", "1", 1);
  FakeRunner runner({driver.path()}, {}, Job{});
  pid_t pid = runner.StartPrepare();
  ::unsetenv("HARNESS_SLEEP");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(::kill(-pid, 0), 0);  // the group is there, sleeps and all
  EXPECT_EQ(runner.Kill(pid), 128 + SIGKILL);
  // The background sleep died with the group; give init a moment to reap it.
  for (int i = 0; i < 50 && ::kill(-pid, 0) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(::kill(-pid, 0), 0);
}

}  // namespace
}  // namespace vk::gitlab_test
