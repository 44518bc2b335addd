// `vk gitlab` driven by the runner harness where no VM is needed: the
// config stage's JSON, refusals that fail the job (build failure) before
// anything boots, our failures (system failure), an idempotent cleanup.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "gitlab/runner_harness.h"

namespace vk::gitlab_test {
namespace {

namespace fs = std::filesystem;

class GitlabDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/gitlab-driver-XXXXXX";
    home_ = ::mkdtemp(dir);
    ::setenv("VIRTKIT_HOME", home_.c_str(), 1);
    config_ = home_ + "/gitlab.toml";
    std::ofstream(config_) << "default_image = \"debian:bookworm\"\n"
                              "allowed_images = [\"debian:*\"]\n"
                              "max_cpus = 2\n";
  }
  void TearDown() override {
    ::unsetenv("VIRTKIT_HOME");
    fs::remove_all(home_);
  }
  FakeRunner Runner(Job job = {}) {
    return FakeRunner({VK_BINARY, "gitlab"}, {"--config", config_}, job);
  }
  bool JobStateLeft() const {
    return fs::exists(home_ + "/gitlab/jobs") && !fs::is_empty(home_ + "/gitlab/jobs");
  }

  std::string home_;
  std::string config_;
};

TEST_F(GitlabDriverTest, ConfigPrintsTheRunnersJson) {
  Job job;
  job.variables["CI_JOB_ID"] = "999";  // a job variable cannot rename the job
  FakeRunner runner = Runner(job);
  CallResult r = runner.Config();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json["builds_dir"], "/builds");
  EXPECT_EQ(json["cache_dir"], "/cache");
  EXPECT_EQ(json["builds_dir_is_shared"], false);
  EXPECT_EQ(json["hostname"], "gl-7-0-1001");
  EXPECT_EQ(json["driver"]["name"], "virtkit");
  EXPECT_EQ(runner.job_env().at("VK_GITLAB_VM"), "gl-7-0-1001");
}

TEST_F(GitlabDriverTest, RefusedImageIsABuildFailure) {
  Job job;
  job.variables["CI_JOB_IMAGE"] = "alpine:3.20";
  FakeRunner runner = Runner(job);
  CallResult r = runner.Prepare();
  EXPECT_EQ(r.exit_code, kBuildFailure) << r.err;
  EXPECT_NE(r.err.find("allowed_images"), std::string::npos) << r.err;
  EXPECT_FALSE(JobStateLeft());
  EXPECT_EQ(runner.Cleanup().exit_code, 0);
}

TEST_F(GitlabDriverTest, BadRequestIsABuildFailure) {
  Job job;
  job.variables["MICROVM_CPUS"] = "many";
  CallResult r = Runner(job).Prepare();
  EXPECT_EQ(r.exit_code, kBuildFailure) << r.err;
  EXPECT_NE(r.err.find("MICROVM_CPUS"), std::string::npos) << r.err;
}

TEST_F(GitlabDriverTest, BrokenConfigIsASystemFailure) {
  std::ofstream(config_) << "max_cpu = 2\n";
  CallResult r = Runner().Prepare();
  EXPECT_EQ(r.exit_code, kSystemFailure) << r.err;
  EXPECT_NE(r.err.find("max_cpu"), std::string::npos) << r.err;
}

TEST_F(GitlabDriverTest, RunWithoutAJobVmIsASystemFailure) {
  FakeRunner runner = Runner();
  CallResult r = runner.Run("build_script", "echo never\n");
  EXPECT_EQ(r.exit_code, kSystemFailure) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(runner.BuildExitCode(), "");
}

TEST_F(GitlabDriverTest, CleanupIsIdempotent) {
  FakeRunner runner = Runner();
  EXPECT_EQ(runner.Cleanup().exit_code, 0);
  EXPECT_EQ(runner.Cleanup().exit_code, 0);
  EXPECT_FALSE(JobStateLeft());
}

TEST_F(GitlabDriverTest, OutsideTheRunnerItSaysSo) {
  // Without the runner's variables: a system failure that names the cause.
  FakeRunner runner({"/usr/bin/env", "-u", "CUSTOM_ENV_CI_RUNNER_ID", VK_BINARY, "gitlab"},
                    {"--config", config_}, Job{});
  CallResult r = runner.Config();
  EXPECT_EQ(r.exit_code, kSystemFailure) << r.err;
  EXPECT_NE(r.err.find("CUSTOM_ENV_CI_RUNNER_ID"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace vk::gitlab_test
