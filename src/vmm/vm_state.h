// State of named VMs on this host (DESIGN.md §3):
// $XDG_RUNTIME_DIR/virtkit/vms/<name>/ (or <data dir>/vms/<name>) holds
// vm.json, console.log, vm.log and the sockets exec.sock, control.sock and
// vsock.sock. `vk ps/stop/rm/logs/wait/exec` find a VM through it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/remove_tree.h"
#include "base/result.h"

namespace vk {

// Guest vsock ports of the agent's servers (src/agent/exec_listener.h).
inline constexpr uint32_t kExecPort = 4444;
inline constexpr uint32_t kControlPort = kExecPort + 1;

struct VmRecord {
  std::string name;
  std::string disk;
  unsigned cpus = 1;
  uint64_t memory_bytes = 0;
  pid_t pid = 0;                 // the VMM process
  uint64_t pid_start_time = 0;   // /proc/PID/stat field 22: tells a reused pid apart
  int64_t created = 0;           // unix seconds
  std::optional<int> exit_code;  // set when the VM ended and its VMM recorded it
  bool checkpointed = false;     // it ended by `vk checkpoint` (`vk restore` resumes it)
};

enum class VmState {
  kRunning,
  kExited,
  kCheckpointed,  // ended by `vk checkpoint`: its checkpoint is in its state directory
  kDead,          // VMM gone without recording an exit
};

// The directory of every named VM: RuntimeDirectory()/vms (base/private_dir.h).
Result<std::string> VmsDirectory();
// A VM's state directory. The name is checked (base/names.h) before any path
// is built from it, so a name like "../.." is an error, never a path.
Result<std::string> VmDirectory(const std::string& name);
// Creates the VM's state directory, 0700, in a private VMs directory; fails
// when it exists (the caller must not touch what another run owns).
Result<std::string> CreateVmDirectory(const std::string& name);
// Removes a VM's state directory through RemoveTreeWithin (never outside the
// VMs directory, never through a symlink).
Result<RemoveOutcome> RemoveVmDirectory(const std::string& name);

// A VM that exists: its (checked) directory and record; else an error such as
// "no VM named web" or the name check's.
struct FoundVm {
  std::string dir;
  VmRecord record;
};
Result<FoundVm> FindVm(const std::string& name);

Result<void> WriteVmRecord(const std::string& dir, const VmRecord& record);
Result<VmRecord> ReadVmRecord(const std::string& dir);
std::vector<VmRecord> ListVms();

std::optional<uint64_t> ProcessStartTime(pid_t pid);
// Whether record.pid is still the very process that wrote the record.
bool VmmAlive(const VmRecord& record);
VmState StateOf(const VmRecord& record);

}  // namespace vk
