// cleanup: the job's VM (disks and state with it) and the job's host
// state, whatever state prepare left them in; safe to run twice.
#include "gitlab/job_state.h"
#include "gitlab/job_vm.h"
#include "gitlab/stages.h"

namespace vk::gitlab {

int CleanupStage(const StageOptions& options, const StageEnv& env) {
  auto context = LoadStageContext(options, env);
  if (!context.ok()) {
    return Report("cleanup", context.error().message(), FailureCodesOf(env).system);
  }
  auto removed = RemoveJob(JobStates(context->data_dir), context->name);
  if (!removed.ok()) return Report("cleanup", removed.error().message(), context->codes.system);
  return 0;
}

}  // namespace vk::gitlab
