#include "gitlab/job_vm.h"

#include "gitlab/stage_env.h"

namespace vk::gitlab {

Error FromLibrary(const virtkit::Error& error) {
  ErrorKind kind = ErrorKind::kInternal;
  switch (error.kind()) {
    case virtkit::ErrorKind::kInternal: kind = ErrorKind::kInternal; break;
    case virtkit::ErrorKind::kUsage: kind = ErrorKind::kUsage; break;
    case virtkit::ErrorKind::kNotFound: kind = ErrorKind::kNotFound; break;
    case virtkit::ErrorKind::kConflict: kind = ErrorKind::kConflict; break;
    case virtkit::ErrorKind::kNoKvm: kind = ErrorKind::kNoKvm; break;
    case virtkit::ErrorKind::kDisk: kind = ErrorKind::kDisk; break;
    case virtkit::ErrorKind::kImage: kind = ErrorKind::kImage; break;
    case virtkit::ErrorKind::kNetwork: kind = ErrorKind::kNetwork; break;
    case virtkit::ErrorKind::kGuestPanic: kind = ErrorKind::kGuestPanic; break;
    case virtkit::ErrorKind::kTimeout: kind = ErrorKind::kTimeout; break;
    case virtkit::ErrorKind::kNoExitStatus: kind = ErrorKind::kNoExitStatus; break;
    case virtkit::ErrorKind::kPreflight: kind = ErrorKind::kPreflight; break;
    case virtkit::ErrorKind::kHook: kind = ErrorKind::kInternal; break;
  }
  return Error(kind, error.message());
}

Result<void> RemoveJobVm(const std::string& name) {
  auto vm = virtkit::Attach(name);
  if (!vm) {
    if (vm.error().kind() == virtkit::ErrorKind::kNotFound) return Ok();
    return FromLibrary(vm.error());
  }
  // Gone in between (another cleanup or reaper got there first): done too.
  auto removed = vm->Remove();
  if (!removed && removed.error().kind() != virtkit::ErrorKind::kNotFound) {
    return FromLibrary(removed.error());
  }
  return Ok();
}

Result<void> RemoveJob(const JobStates& states, const std::string& name) {
  // The VM first: a job state without a VM is harmless, a VM without its
  // state would look like a stray to every other prepare.
  VK_TRY(RemoveJobVm(name));
  VK_TRY_CTX(states.Remove(name), "remove the state of " + name);
  return Ok();
}

Result<std::vector<JobVmInfo>> ListJobVms() {
  auto all = virtkit::List();
  if (!all) return FromLibrary(all.error());
  std::vector<JobVmInfo> jobs;
  for (const virtkit::VmStatus& status : *all) {
    if (IsJobVmName(status.name)) jobs.push_back({status.name, status.active, status.uptime});
  }
  return jobs;
}

}  // namespace vk::gitlab
