// `vk gitlab config|prepare|run SCRIPT STAGE|cleanup [--config FILE]`: the
// programs GitLab Runner's custom executor calls (src/gitlab/stages.h,
// docs/gitlab.md).
#include <unistd.h>

#include <climits>
#include <memory>

#include "base/spawn.h"
#include "cli/command.h"
#include "gitlab/stages.h"

namespace vk::cli {
namespace {

struct GitlabArgs {
  gitlab::StageOptions options;
  std::string script;
  std::string stage;
};

CLI::App* Stage(CLI::App& app, const char* name, const char* description, GitlabArgs& args) {
  CLI::App* sub = app.add_subcommand(name, description);
  sub->add_option("--config", args.options.config_path,
                  "Settings file (default: $VIRTKIT_HOME/gitlab.toml)");
  return sub;
}

Runner Setup(CLI::App& app) {
  auto args = std::make_shared<GitlabArgs>();
  app.require_subcommand(1);
  app.footer("Called by gitlab-runner's custom executor; see docs/gitlab.md.");
  CLI::App* config = Stage(app, "config", "Print the job's settings as JSON", *args);
  CLI::App* prepare = Stage(app, "prepare", "Boot the job's VM", *args);
  CLI::App* run = Stage(app, "run", "Run a stage script in the job's VM", *args);
  run->add_option("script", args->script, "The runner's stage script")->required();
  run->add_option("stage", args->stage, "The stage's name")->required();
  CLI::App* cleanup = Stage(app, "cleanup", "Remove the job's VM and state", *args);
  return [args, config, prepare, run, cleanup] {
    args->options.vk_program = SelfExecutable();
    const gitlab::StageEnv env = gitlab::StageEnv::FromProcess();
    if (config->parsed()) return gitlab::ConfigStage(args->options, env);
    if (prepare->parsed()) return gitlab::PrepareStage(args->options, env);
    if (run->parsed()) return gitlab::RunStage(args->options, env, args->script, args->stage);
    if (cleanup->parsed()) return gitlab::CleanupStage(args->options, env);
    return kExitUsage;
  };
}

Command kGitlab("gitlab", "GitLab CI custom executor: one throwaway VM per job", &Setup);

}  // namespace
}  // namespace vk::cli
