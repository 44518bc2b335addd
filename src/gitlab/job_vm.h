// The job VMs through libvirtkit (include/virtkit/virtkit.h), the only way
// this module starts, reaches or removes a VM.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/result.h"
#include "gitlab/job_state.h"
#include "virtkit/virtkit.h"

namespace vk::gitlab {

// The library's error as ours: same kind (kHook, which we never use, as
// kInternal) and message.
Error FromLibrary(const virtkit::Error& error);

// Kills the job's VM if it runs and removes its disks and state; a VM that
// is not there is no error (cleanup runs after any prepare, also a failed one).
Result<void> RemoveJobVm(const std::string& name);

// The job's VM, then its host state: what cleanup does, and what a stray
// or a retried prepare needs.
Result<void> RemoveJob(const JobStates& states, const std::string& name);

struct JobVmInfo {
  std::string name;
  bool running = false;
  std::chrono::seconds uptime{0};  // 0 once ended
};
// Every job VM of this user (IsJobVmName), running or not.
Result<std::vector<JobVmInfo>> ListJobVms();

}  // namespace vk::gitlab
