#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/private_dir.h"
#include "gitlab/job_plan.h"
#include "gitlab/stages.h"
#include "virtkit/virtkit.h"

namespace vk::gitlab {

Result<StageContext> LoadStageContext(const StageOptions& options, const StageEnv& env) {
  StageContext context;
  context.codes = FailureCodesOf(env);
  context.config = VK_TRY_CTX(LoadConfig(options.config_path), "config");
  context.job = VK_TRY(IdentifyJob(env));
  context.name = JobVmName(context.job);
  context.data_dir = VK_TRY(DataDirectory());
  return context;
}

int Report(const char* stage, const std::string& message, int code) {
  std::fprintf(stderr, "vk gitlab %s: %s\n", stage, message.c_str());
  return code;
}

std::string ConfigJson(const Config& config, const std::string& vm_name) {
  nlohmann::json json = {
      {"builds_dir", config.builds_dir},
      {"cache_dir", std::string(kGuestCacheDir)},
      // Each job has its own VM, so its builds dir is its own.
      {"builds_dir_is_shared", false},
      {"hostname", vm_name},
      {"driver", {{"name", "virtkit"}, {"version", std::string(virtkit::Version())}}},
      // For the later stages (not the job): the VM they act on.
      {"job_env", {{"VK_GITLAB_VM", vm_name}}},
  };
  return json.dump();
}

int ConfigStage(const StageOptions& options, const StageEnv& env) {
  auto context = LoadStageContext(options, env);
  if (!context.ok()) {
    return Report("config", context.error().message(), FailureCodesOf(env).system);
  }
  std::printf("%s\n", ConfigJson(context->config, context->name).c_str());
  return 0;
}

}  // namespace vk::gitlab
