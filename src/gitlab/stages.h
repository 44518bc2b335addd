// `vk gitlab config|prepare|run|cleanup`: the four programs of GitLab's
// custom executor (docs/gitlab.md). Each returns the process's exit code:
// 0, or the runner's BUILD_FAILURE_EXIT_CODE / SYSTEM_FAILURE_EXIT_CODE
// (gitlab/outcome.h). Messages go to stderr, which the runner puts in the
// job log.
#pragma once

#include <string>

#include "base/result.h"
#include "gitlab/config.h"
#include "gitlab/stage_env.h"

namespace vk::gitlab {

struct StageOptions {
  std::string config_path;  // --config; empty: $VIRTKIT_HOME/gitlab.toml
  std::string vk_program;   // the vk that supervises job VMs (this one)
};

// The config stage's JSON (executors/custom/api/config.go in the runner).
std::string ConfigJson(const Config& config, const std::string& vm_name);

int ConfigStage(const StageOptions& options, const StageEnv& env);
int PrepareStage(const StageOptions& options, const StageEnv& env);
int RunStage(const StageOptions& options, const StageEnv& env, const std::string& script,
             const std::string& stage);
int CleanupStage(const StageOptions& options, const StageEnv& env);

// What every stage starts from.
struct StageContext {
  Config config;
  FailureCodes codes;
  JobIdentity job;
  std::string name;  // the job VM's
  std::string data_dir;
};
Result<StageContext> LoadStageContext(const StageOptions& options, const StageEnv& env);

// "vk gitlab STAGE: message" on stderr; returns `code`.
int Report(const char* stage, const std::string& message, int code);

}  // namespace vk::gitlab
