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
};

enum class VmState { kRunning, kExited, kDead /* VMM gone without recording an exit */ };

std::string VmsDirectory();
std::string VmDirectory(const std::string& name);
// Names may be used in paths and host names: [a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}.
Result<void> CheckVmName(const std::string& name);

Result<void> WriteVmRecord(const std::string& dir, const VmRecord& record);
Result<VmRecord> ReadVmRecord(const std::string& dir);
std::vector<VmRecord> ListVms();

std::optional<uint64_t> ProcessStartTime(pid_t pid);
// Whether record.pid is still the very process that wrote the record.
bool VmmAlive(const VmRecord& record);
VmState StateOf(const VmRecord& record);

}  // namespace vk
