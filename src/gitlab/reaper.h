// Strays: job VMs and job states that no job will clean up. Two kinds:
// a job whose cleanup never came (the runner died, the host rebooted) shows
// as state older than stray_age; a VM whose job state is gone was started
// by a prepare that was killed after its cleanup had already run (only
// possible when the runner killed prepare but not its process group). The
// latter goes once ended or older than stray_age too: a younger one may be
// the live job of a runner with another data dir (reaper.cc).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "gitlab/job_state.h"

namespace vk::gitlab {

// Removes both kinds; called by prepare under JobStates::Lock(). Returns
// one line per removal (or failure to remove) for the job log.
std::vector<std::string> ReapStrays(const JobStates& states, std::chrono::seconds stray_age,
                                    int64_t now);

}  // namespace vk::gitlab
