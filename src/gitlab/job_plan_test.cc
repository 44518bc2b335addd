#include "gitlab/job_plan.h"

#include <gtest/gtest.h>

namespace vk::gitlab {
namespace {

const JobIdentity kJob{"7", "1", "1001", "42"};

Config TestConfig() {
  Config config;
  config.default_image = "debian:bookworm";
  config.allowed_images = {"debian:*"};
  config.max_cpus = 4;
  config.max_memory_bytes = 2ull << 30;
  config.egress_allow = {"*.example.com"};
  return config;
}

StageEnv Env(std::map<std::string, std::string, std::less<>> vars) { return StageEnv(vars); }

TEST(GitlabJobPlanTest, DefaultsFromTheConfig) {
  auto plan = PlanJob(TestConfig(), Env({}), kJob, "/data");
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  EXPECT_EQ(plan->name, "gl-7-1-1001");
  EXPECT_EQ(plan->image, "debian:bookworm");
  EXPECT_EQ(plan->cpus, 1u);
  EXPECT_EQ(plan->memory_bytes, 1ull << 30);
  EXPECT_EQ(plan->user, "");
  EXPECT_EQ(plan->egress_allow, std::vector<std::string>{"*.example.com"});
  EXPECT_EQ(plan->cache_host_dir, "/data/gitlab/cache/project-42");
  EXPECT_EQ(plan->artifacts_host_dir, "");
  EXPECT_TRUE(plan->notes.empty());
}

TEST(GitlabJobPlanTest, RequestsWithinLimits) {
  Config config = TestConfig();
  config.cache_dir = "/srv/cache";
  config.artifacts_dir = "/srv/artifacts";
  auto plan = PlanJob(config,
                      Env({{"CUSTOM_ENV_CI_JOB_IMAGE", "debian:trixie"},
                           {"CUSTOM_ENV_MICROVM_CPUS", "2"},
                           {"CUSTOM_ENV_MICROVM_MEM", "512M"},
                           {"CUSTOM_ENV_MICROVM_USER", "build:build"},
                           {"CUSTOM_ENV_MICROVM_EGRESS_ALLOW", "gitlab.example.com"}}),
                      kJob, "/data");
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  EXPECT_EQ(plan->image, "debian:trixie");
  EXPECT_EQ(plan->cpus, 2u);
  EXPECT_EQ(plan->memory_bytes, 512ull << 20);
  EXPECT_EQ(plan->user, "build:build");
  EXPECT_EQ(plan->egress_allow, std::vector<std::string>{"gitlab.example.com"});
  EXPECT_EQ(plan->cache_host_dir, "/srv/cache/project-42");
  EXPECT_EQ(plan->artifacts_host_dir, "/srv/artifacts/1001");
}

TEST(GitlabJobPlanTest, OversizedRequestsAreCapped) {
  auto plan = PlanJob(TestConfig(),
                      Env({{"CUSTOM_ENV_MICROVM_CPUS", "64"}, {"CUSTOM_ENV_MICROVM_MEM", "64G"}}),
                      kJob, "/data");
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  EXPECT_EQ(plan->cpus, 4u);
  EXPECT_EQ(plan->memory_bytes, 2ull << 30);
  EXPECT_EQ(plan->notes.size(), 2u);
}

TEST(GitlabJobPlanTest, RefusalsAreUsageErrors) {
  std::map<std::string, std::string, std::less<>> refused[] = {
      {{"CUSTOM_ENV_CI_JOB_IMAGE", "alpine:3.20"}},
      {{"CUSTOM_ENV_MICROVM_CPUS", "0"}},
      {{"CUSTOM_ENV_MICROVM_CPUS", "two"}},
      {{"CUSTOM_ENV_MICROVM_MEM", "lots"}},
      {{"CUSTOM_ENV_MICROVM_USER", "root; rm -rf /"}},
      {{"CUSTOM_ENV_MICROVM_USER", "-x"}},
      {{"CUSTOM_ENV_MICROVM_EGRESS_ALLOW", "pypi.org"}},
  };
  for (const auto& vars : refused) {
    auto plan = PlanJob(TestConfig(), Env(vars), kJob, "/data");
    ASSERT_FALSE(plan.ok()) << vars.begin()->second;
    EXPECT_EQ(plan.error().kind(), ErrorKind::kUsage) << plan.error().message();
  }
  Config no_default = TestConfig();
  no_default.default_image.clear();
  EXPECT_EQ(PlanJob(no_default, Env({}), kJob, "/data").error().kind(), ErrorKind::kUsage);
}

TEST(GitlabJobPlanTest, RunnerEnvironmentReplacesTheFilesEgressPolicy) {
  auto plan = PlanJob(TestConfig(), Env({{"MICROVM_EGRESS_ALLOW", "deb.debian.org"}}), kJob, "/d");
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->egress_allow, std::vector<std::string>{"deb.debian.org"});
  auto wider = PlanJob(TestConfig(),
                       Env({{"MICROVM_EGRESS_ALLOW", "deb.debian.org"},
                            {"CUSTOM_ENV_MICROVM_EGRESS_ALLOW", "x.example.com"}}),
                       kJob, "/d");
  EXPECT_FALSE(wider.ok());
}

}  // namespace
}  // namespace vk::gitlab
