// How a stage's result becomes the exit code the runner reads
// (docs/executors/custom.md, "Error handling"): BUILD_FAILURE_EXIT_CODE when
// the job is at fault (its script failed, it asked for what the runner
// refuses), SYSTEM_FAILURE_EXIT_CODE when we are (no VM, agent unreachable,
// host trouble), which the runner may retry. Decided by error kind and exit
// status, never by message text.
#pragma once

#include <optional>

#include "base/result.h"
#include "gitlab/stage_env.h"

namespace vk::gitlab {

enum class Failure { kBuild, kSystem };

// A failure to plan or boot the job's VM: kUsage (a request the config
// refuses, a bad variable) and kNotFound (no such image, user) are the
// job's; every other kind is ours.
Failure FailureOf(ErrorKind kind);
int ExitCodeOf(Failure failure, const FailureCodes& codes);

// A stage script's end: its shell status when it ran to an exit (or was
// killed by a signal, 128+N), or the error that kept us from running it or
// hearing its end (the VM or agent gone), which is always a system failure.
struct StageExit {
  int exit_code = 0;                // for the runner
  std::optional<int> build_status;  // for BUILD_EXIT_CODE_FILE
};
StageExit ExitForScript(const Result<int>& shell_status, const FailureCodes& codes);

}  // namespace vk::gitlab
