// run SCRIPT STAGE: hand the runner's stage script to the job's VM through
// its read-only scripts share and run it there with the shell prepare
// chose, its output streamed to ours as it comes.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "base/defer.h"
#include "base/fd_io.h"
#include "base/file_io.h"
#include "base/unique_fd.h"
#include "gitlab/job_plan.h"
#include "gitlab/job_state.h"
#include "gitlab/job_vm.h"
#include "gitlab/outcome.h"
#include "gitlab/stages.h"

namespace vk::gitlab {
namespace {

// A stage script is the job's commands plus the runner's set-up, kilobytes
// usually; the bound keeps a runaway file out of the job's directory.
constexpr uint64_t kMaxScriptBytes = 64ull << 20;
constexpr size_t kMaxStageNameInFile = 48;

// The stage name as part of a file name: [a-z0-9_] only.
std::string FileStem(std::string_view stage) {
  std::string stem;
  for (char c : stage.substr(0, kMaxStageNameInFile)) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    stem += plain ? c : '_';
  }
  return stem.empty() ? "stage" : stem;
}

// Copies the script into the job's scripts dir under a new name; returns
// that name. Readable by any guest user (the job dir keeps host users out).
Result<std::string> HandOver(const JobStates& states, const std::string& name,
                             const std::string& script, std::string_view stage) {
  auto text = VK_TRY_CTX(ReadFileBytes(script, kMaxScriptBytes), "read the stage script");
  const std::string file = FileStem(stage) + "-" + std::to_string(::getpid());
  const std::string path = states.ScriptsDir(name) + "/" + file;
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) return Error::FromErrno("create " + path);
  if (::fchmod(fd.get(), 0644) != 0) return Error::FromErrno("chmod " + path);
  VK_TRY_CTX(WriteAll(fd.get(), std::span<const uint8_t>(text)), "write " + path);
  return file;
}

// The script's shell status, or why it could not run or report.
Result<int> RunScript(const std::string& name, const JobRecord& record, const std::string& file) {
  auto vm = virtkit::Attach(name);
  if (!vm) return FromLibrary(vm.error());
  virtkit::ExecOptions exec;
  exec.user = record.user;
  exec.stdout_fd = STDOUT_FILENO;
  exec.stderr_fd = STDERR_FILENO;
  const std::string shell = record.shell.empty() ? "/bin/sh" : record.shell;
  auto done = vm->Exec({shell, std::string(kGuestScriptsDir) + "/" + file}, exec);
  if (!done) return FromLibrary(done.error());
  return done->ShellCode();
}

// BUILD_EXIT_CODE_FILE: the script's own status, which the runner shows
// and `allow_failure: exit_codes` matches (docs/executors/custom.md).
void RecordBuildStatus(const StageEnv& env, int status) {
  auto path = env.Get("BUILD_EXIT_CODE_FILE");
  if (!path || path->empty()) return;
  auto fd = OpenUserOutputFile(*path, /*append=*/false);
  auto written =
      fd.ok() ? WriteAll(fd->get(), std::to_string(status) + "\n") : Result<void>(fd.error());
  if (!written.ok()) Report("run", "BUILD_EXIT_CODE_FILE: " + written.error().message(), 0);
}

}  // namespace

int RunStage(const StageOptions& options, const StageEnv& env, const std::string& script,
             const std::string& stage) {
  auto context = LoadStageContext(options, env);
  if (!context.ok()) return Report("run", context.error().message(), FailureCodesOf(env).system);
  JobStates states(context->data_dir);
  auto record = states.Read(context->name);
  if (!record.ok()) {
    return Report("run", record.error().message() + " (did prepare succeed?)",
                  context->codes.system);
  }
  auto file = HandOver(states, context->name, script, stage);
  if (!file.ok()) return Report("run", file.error().message(), context->codes.system);
  const std::string host_copy = states.ScriptsDir(context->name) + "/" + *file;
  // The script holds the job's variables, secrets included: gone once run.
  Defer forget([&host_copy] { ::unlink(host_copy.c_str()); });
  Result<int> status = RunScript(context->name, *record, *file);
  StageExit exit = ExitForScript(status, context->codes);
  if (!status.ok()) {
    Report("run", stage + ": " + status.error().message(), 0);
  } else if (exit.build_status) {
    RecordBuildStatus(env, *exit.build_status);
  }
  return exit.exit_code;
}

}  // namespace vk::gitlab
