// What the runner tells a driver stage through its environment
// (gitlab-runner executors/custom/command/command.go and custom.go,
// docs/executors/custom.md): the runner's own environment, then TMPDIR,
// BUILD_FAILURE_EXIT_CODE, SYSTEM_FAILURE_EXIT_CODE, BUILD_EXIT_CODE_FILE
// and JOB_RESPONSE_FILE, then the config stage's job_env, then every job
// variable as CUSTOM_ENV_<NAME>.
//
// A job may set variables of its own, so CUSTOM_ENV_* values are requests,
// never facts: the job's id and project come from the job response file,
// which the runner writes from GitLab's answer.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace vk::gitlab {

class StageEnv {
 public:
  explicit StageEnv(std::map<std::string, std::string, std::less<>> vars)
      : vars_(std::move(vars)) {}
  static StageEnv FromProcess();

  std::optional<std::string> Get(std::string_view name) const;
  // The job variable `name` (CUSTOM_ENV_<name>); empty values count as unset.
  std::optional<std::string> Job(std::string_view name) const;

 private:
  std::map<std::string, std::string, std::less<>> vars_;
};

// The exit codes the runner gave for "the job's script failed" and "the
// driver failed" (1 and 2 when unset, the runner's values).
struct FailureCodes {
  int build = 1;
  int system = 2;
};
FailureCodes FailureCodesOf(const StageEnv& env);

// Who the job is: numeric ids, checked as such before they name anything.
struct JobIdentity {
  std::string runner_id;      // CI_RUNNER_ID
  std::string concurrent_id;  // CI_CONCURRENT_PROJECT_ID: the slot on this runner
  std::string job_id;         // the job response's id
  std::string project_id;     // the job response's job_info.project_id
};

// The job response's trusted fields (JOB_RESPONSE_FILE: GitLab's job JSON).
struct JobResponse {
  std::string job_id;
  std::string project_id;
};
Result<JobResponse> ParseJobResponse(std::string_view json);

// From the job response file when the runner gives one (runner 13.0+), else
// from CI_JOB_ID / CI_PROJECT_ID; runner and slot ids from the environment.
Result<JobIdentity> IdentifyJob(const StageEnv& env);

// The job VM's name, "gl-<runner>-<slot>-<job>": one job id is one job of
// one GitLab, and the runner and slot keep two runners' jobs apart.
std::string JobVmName(const JobIdentity& job);
// Whether `name` is a job VM's name (the reaper touches no other VM).
bool IsJobVmName(std::string_view name);

}  // namespace vk::gitlab
