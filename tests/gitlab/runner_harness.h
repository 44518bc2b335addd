// A stand-in for gitlab-runner's custom executor, which Debian does not
// package: it drives a driver (`vk gitlab`) with the runner's call
// sequence, environment and stage-script shape. What it reproduces, as read
// in gitlab-runner's source (gitlab.com/gitlab-org/gitlab-runner):
//
// - executors/custom/custom.go: a temporary directory per job, the working
//   directory of every call; the job's JSON written there as response.json
//   (JOB_RESPONSE_FILE); BUILD_EXIT_CODE_FILE is <tmp>/build_exit_code; each
//   run sub-stage's script written to a fresh <tmp>/scriptNNN/script (0700)
//   and passed as `run_exec [run_args] SCRIPT STAGE`; config_exec's stdout
//   parsed as JSON, its job_env added to the calls that follow.
// - executors/custom/command/command.go: a call's environment is the
//   runner's own, then TMPDIR, BUILD_FAILURE_EXIT_CODE=1,
//   SYSTEM_FAILURE_EXIT_CODE=2, BUILD_EXIT_CODE_FILE, JOB_RESPONSE_FILE, then
//   job_env, then every job variable as CUSTOM_ENV_<NAME>.
// - helpers/process (job_unix.go, killer_unix.go): each call runs in a
//   process group of its own; a timeout or a cancel sends SIGTERM to the
//   group, then SIGKILL to the group after graceful_kill_timeout.
// - shells/bash.go, BashWriter.Finish: a stage script is
//     #!/usr/bin/env bash
//     trap 'exit 1' TERM
//     case "$(set -o)" in *"pipefail"*) set -o pipefail;; esac; set -o errexit
//     set +o noclobber
//     (trap 'exit 1' TERM; eval $'<the stage\'s commands>') < /dev/null
//     exit 0
//   where the commands begin by exporting the job's variables.
// - docs/executors/custom.md, "Run": the order of the sub-stages
//   (prepare_script, get_sources, restore_cache, download_artifacts,
//   step_script / build_script, after_script, archive_cache[_on_failure],
//   upload_artifacts_on_{success,failure}, cleanup_file_variables).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace vk::gitlab_test {

// The exit codes the runner hands out (command.go).
inline constexpr int kBuildFailure = 1;
inline constexpr int kSystemFailure = 2;

struct Job {
  std::string id = "1001";
  std::string project_id = "42";
  std::string runner_id = "7";
  std::string concurrent_id = "0";
  // Job variables (CI_JOB_IMAGE, MICROVM_CPUS, ...): CUSTOM_ENV_<name>, and
  // exported at the top of every stage script.
  std::map<std::string, std::string> variables;
};

struct CallResult {
  int exit_code = -1;  // 128+N when a signal ended it
  std::string out;
  std::string err;
  std::chrono::milliseconds elapsed{0};
};

class FakeRunner {
 public:
  // `driver`: the program and its fixed arguments, e.g. {vk, "gitlab"};
  // each call appends the stage ("config", "prepare", "run", "cleanup")
  // and `extra_args` (e.g. {"--config", FILE}), as config.toml's *_args do.
  FakeRunner(std::vector<std::string> driver, std::vector<std::string> extra_args, Job job);
  ~FakeRunner();
  FakeRunner(const FakeRunner&) = delete;
  FakeRunner& operator=(const FakeRunner&) = delete;

  // The calls, in the runner's order. Config() keeps job_env for the rest.
  CallResult Config();
  CallResult Prepare(std::chrono::seconds timeout = std::chrono::seconds(1800));
  // Writes a stage script around `commands` and runs it as STAGE.
  CallResult Run(const std::string& stage, std::string_view commands,
                 std::chrono::seconds timeout = std::chrono::seconds(900));
  CallResult Cleanup(std::chrono::seconds timeout = std::chrono::seconds(300));

  // A call started in the background, for killing it like the runner does.
  pid_t StartPrepare();
  // SIGTERM to the call's process group, SIGKILL after `grace`; reaps it.
  int Terminate(pid_t pid, std::chrono::milliseconds grace);
  // SIGKILL to the group at once (the runner after graceful_kill_timeout).
  int Kill(pid_t pid);

  // What every call's environment holds besides the runner's own.
  std::vector<std::string> Environment() const;
  // BUILD_EXIT_CODE_FILE's content ("" when the driver wrote none).
  std::string BuildExitCode() const;
  const std::string& temp_dir() const { return temp_dir_; }
  const std::map<std::string, std::string>& job_env() const { return job_env_; }

  // The stage script shape of shells/bash.go around `commands`.
  static std::string StageScript(std::string_view commands);
  // bash's $'...' quoting (helpers.ShellEscape): any byte survives.
  static std::string AnsiCQuote(std::string_view text);
  // `export NAME=$'value'` for each job variable, as each stage begins.
  std::string Exports() const;

 private:
  std::vector<std::string> Argv(const std::string& stage,
                                const std::vector<std::string>& tail) const;
  pid_t Spawn(const std::vector<std::string>& argv, int out, int err) const;
  CallResult Call(const std::vector<std::string>& argv, std::chrono::seconds timeout) const;

  std::vector<std::string> driver_;
  std::vector<std::string> extra_args_;
  Job job_;
  std::string temp_dir_;
  std::map<std::string, std::string> job_env_;
  mutable int scripts_ = 0;
};

}  // namespace vk::gitlab_test
