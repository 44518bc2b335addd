#include "gitlab/reaper.h"

#include <sys/stat.h>

#include <algorithm>

#include "gitlab/job_vm.h"

namespace vk::gitlab {
namespace {

// When the job started: its record, else its directory's age (a prepare
// killed before the record was written).
int64_t StartedAt(const JobStates& states, const std::string& name) {
  auto record = states.Read(name);
  if (record.ok() && record->created > 0) return record->created;
  struct stat st {};
  if (::stat(states.Path(name).c_str(), &st) == 0) return st.st_mtim.tv_sec;
  return 0;
}

void Note(std::vector<std::string>& lines, const std::string& what, const Result<void>& done) {
  lines.push_back(done.ok() ? what : what + " failed: " + done.error().message());
}

}  // namespace

std::vector<std::string> ReapStrays(const JobStates& states, std::chrono::seconds stray_age,
                                    int64_t now) {
  std::vector<std::string> lines;
  std::vector<std::string> live;
  for (const std::string& name : states.Names()) {
    int64_t age = now - StartedAt(states, name);
    if (age <= stray_age.count()) {
      live.push_back(name);
      continue;
    }
    Note(lines,
         "removed the stray job " + name + " (started " + std::to_string(age / 60) + " min ago)",
         RemoveJob(states, name));
  }
  auto vms = ListJobVms();
  if (!vms.ok()) {
    lines.push_back("listing job VMs failed: " + vms.error().message());
    return lines;
  }
  for (const JobVmInfo& vm : *vms) {
    if (std::find(live.begin(), live.end(), vm.name) != live.end()) continue;
    // A running job VM without our job state may be another data dir's
    // live job: with XDG_RUNTIME_DIR set, every VIRTKIT_HOME of a user
    // shares one VMs directory, while job states are per data dir. Only
    // age makes it a stray then, as for job states.
    if (vm.running && vm.uptime <= stray_age) continue;
    Note(lines, "removed the job VM " + vm.name + " (its job is gone)", RemoveJobVm(vm.name));
  }
  return lines;
}

}  // namespace vk::gitlab
