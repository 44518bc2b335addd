#include "gitlab/outcome.h"

namespace vk::gitlab {

Failure FailureOf(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kUsage:
    case ErrorKind::kNotFound: return Failure::kBuild;
    default: return Failure::kSystem;
  }
}

int ExitCodeOf(Failure failure, const FailureCodes& codes) {
  return failure == Failure::kBuild ? codes.build : codes.system;
}

StageExit ExitForScript(const Result<int>& shell_status, const FailureCodes& codes) {
  if (!shell_status.ok()) return {codes.system, std::nullopt};
  if (*shell_status == 0) return {0, std::nullopt};
  return {codes.build, *shell_status};
}

}  // namespace vk::gitlab
