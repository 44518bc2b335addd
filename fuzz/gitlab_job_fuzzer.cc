// Fuzzes what `vk gitlab` reads from the runner and from jobs: the job
// response (GitLab's job JSON in JOB_RESPONSE_FILE), gitlab.toml, and the
// job variables that become VM settings (MICROVM_*, CI_JOB_IMAGE). Every
// input must give a value or an error, never a crash; an accepted job id
// must make a valid job VM name.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gitlab/config.h"
#include "gitlab/job_plan.h"
#include "gitlab/policy.h"
#include "gitlab/stage_env.h"

namespace {

void JobVariables(std::string_view text) {
  vk::gitlab::Config config;
  config.default_image = "debian:bookworm";
  config.allowed_images = {"debian:*"};
  config.egress_allow = {"*.example.com"};
  const std::string value(text);
  vk::gitlab::StageEnv env({{"CUSTOM_ENV_CI_JOB_IMAGE", value},
                            {"CUSTOM_ENV_MICROVM_CPUS", value},
                            {"CUSTOM_ENV_MICROVM_MEM", value},
                            {"CUSTOM_ENV_MICROVM_USER", value},
                            {"CUSTOM_ENV_MICROVM_EGRESS_ALLOW", value}});
  (void)vk::gitlab::PlanJob(config, env, {"1", "0", "2", "3"}, "/data");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto response = vk::gitlab::ParseJobResponse(text);
  if (response.ok()) {
    vk::gitlab::JobIdentity job{"1", "0", response->job_id, response->project_id};
    if (!vk::gitlab::IsJobVmName(vk::gitlab::JobVmName(job))) std::abort();
  }
  (void)vk::gitlab::ParseConfig(text, "fuzz.toml");
  (void)vk::gitlab::ParseDuration(text);
  JobVariables(text);
  return 0;
}
