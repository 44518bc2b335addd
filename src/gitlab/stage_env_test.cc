#include "gitlab/stage_env.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/remove_tree.h"

namespace vk::gitlab {
namespace {

StageEnv Env(std::map<std::string, std::string, std::less<>> vars) { return StageEnv(vars); }

TEST(GitlabStageEnvTest, JobVariablesAreCustomEnv) {
  StageEnv env = Env({{"CUSTOM_ENV_CI_JOB_IMAGE", "debian:12"},
                      {"CUSTOM_ENV_EMPTY", ""},
                      {"CI_JOB_IMAGE", "not-a-job-variable"}});
  EXPECT_EQ(env.Job("CI_JOB_IMAGE"), "debian:12");
  EXPECT_EQ(env.Job("EMPTY"), std::nullopt);
  EXPECT_EQ(env.Job("MISSING"), std::nullopt);
  EXPECT_EQ(env.Get("CI_JOB_IMAGE"), "not-a-job-variable");
}

TEST(GitlabStageEnvTest, FailureCodesFromTheRunner) {
  FailureCodes codes =
      FailureCodesOf(Env({{"BUILD_FAILURE_EXIT_CODE", "17"}, {"SYSTEM_FAILURE_EXIT_CODE", "18"}}));
  EXPECT_EQ(codes.build, 17);
  EXPECT_EQ(codes.system, 18);
  FailureCodes fallback =
      FailureCodesOf(Env({{"BUILD_FAILURE_EXIT_CODE", "x"}, {"SYSTEM_FAILURE_EXIT_CODE", "300"}}));
  EXPECT_EQ(fallback.build, 1);
  EXPECT_EQ(fallback.system, 2);
}

TEST(GitlabStageEnvTest, JobResponseFields) {
  auto response = ParseJobResponse(R"({"id": 123456, "token": "t",
      "job_info": {"name": "build", "project_id": 42}, "variables": []})");
  ASSERT_TRUE(response.ok()) << response.error().message();
  EXPECT_EQ(response->job_id, "123456");
  EXPECT_EQ(response->project_id, "42");
  EXPECT_FALSE(ParseJobResponse("[]").ok());
  EXPECT_FALSE(ParseJobResponse("{\"id\": -4}").ok());
  EXPECT_FALSE(ParseJobResponse("{\"id\": \"../x\"}").ok());
  EXPECT_FALSE(ParseJobResponse("{\"id\": 1.5}").ok());
  EXPECT_FALSE(ParseJobResponse("{").ok());
  EXPECT_EQ(ParseJobResponse("{\"id\": 7, \"job_info\": 3}")->project_id, "");
}

TEST(GitlabStageEnvTest, IdentityTrustsTheResponseOverVariables) {
  char dir[] = "/tmp/gitlab-env-XXXXXX";
  std::string path = std::string(::mkdtemp(dir)) + "/response.json";
  std::ofstream(path) << R"({"id": 555, "job_info": {"project_id": 9}})";
  auto job = IdentifyJob(Env({{"JOB_RESPONSE_FILE", path},
                              {"CUSTOM_ENV_CI_RUNNER_ID", "3"},
                              {"CUSTOM_ENV_CI_CONCURRENT_PROJECT_ID", "1"},
                              {"CUSTOM_ENV_CI_JOB_ID", "556"},  // a job's own variable
                              {"CUSTOM_ENV_CI_PROJECT_ID", "10"}}));
  // mkdtemp under /tmp: removed through the guarded helper, never outside it.
  (void)RemoveTreeWithin(std::filesystem::path(dir).parent_path(), dir);
  ASSERT_TRUE(job.ok()) << job.error().message();
  EXPECT_EQ(job->job_id, "555");
  EXPECT_EQ(job->project_id, "9");
  EXPECT_EQ(JobVmName(*job), "gl-3-1-555");
}

TEST(GitlabStageEnvTest, IdentityWithoutResponseFile) {
  auto job = IdentifyJob(Env({{"CUSTOM_ENV_CI_RUNNER_ID", "3"},
                              {"CUSTOM_ENV_CI_CONCURRENT_PROJECT_ID", "0"},
                              {"CUSTOM_ENV_CI_JOB_ID", "77"},
                              {"CUSTOM_ENV_CI_PROJECT_ID", "5"}}));
  ASSERT_TRUE(job.ok()) << job.error().message();
  EXPECT_EQ(JobVmName(*job), "gl-3-0-77");
}

TEST(GitlabStageEnvTest, IdsMustBeNumbers) {
  auto bad = IdentifyJob(Env({{"CUSTOM_ENV_CI_RUNNER_ID", "../../x"},
                              {"CUSTOM_ENV_CI_CONCURRENT_PROJECT_ID", "0"},
                              {"CUSTOM_ENV_CI_JOB_ID", "77"},
                              {"CUSTOM_ENV_CI_PROJECT_ID", "5"}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind(), ErrorKind::kUsage);
  auto missing = IdentifyJob(Env({}));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("CUSTOM_ENV_CI_RUNNER_ID"), std::string::npos);
  auto huge = IdentifyJob(Env({{"CUSTOM_ENV_CI_RUNNER_ID", "12345678901234567890"},
                               {"CUSTOM_ENV_CI_CONCURRENT_PROJECT_ID", "0"},
                               {"CUSTOM_ENV_CI_JOB_ID", "77"},
                               {"CUSTOM_ENV_CI_PROJECT_ID", "5"}}));
  EXPECT_FALSE(huge.ok());
}

TEST(GitlabStageEnvTest, JobVmNames) {
  JobIdentity longest{"9223372036854775807", "9223372036854775807", "9223372036854775807", "1"};
  EXPECT_LE(JobVmName(longest).size(), 63u);  // a VM name's limit (base/names.h)
  EXPECT_TRUE(IsJobVmName(JobVmName(longest)));
  EXPECT_TRUE(IsJobVmName("gl-1-0-77"));
  EXPECT_FALSE(IsJobVmName("gl-1-0"));
  EXPECT_FALSE(IsJobVmName("gl-1-0-77-x"));
  EXPECT_FALSE(IsJobVmName("vm-3f9a2c"));
  EXPECT_FALSE(IsJobVmName("gl-a-0-77"));
}

}  // namespace
}  // namespace vk::gitlab
