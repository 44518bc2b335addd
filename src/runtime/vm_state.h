// The record of a named VM (its VmDir's vm.json): which VMM process runs it
// (pid and start time, so a reused pid is never mistaken for it) and how it
// ended. runtime/named_vm.h is how commands find and act on VMs.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "runtime/vm_dir.h"

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
  // Its port forwards as given ("[HOSTIP:]HOSTPORT:GUESTPORT[/udp]"), so a
  // program that attaches later (the library's Attach) knows them.
  std::vector<std::string> publish;
  // Its environment (image config, then the user's K=V), the base of what a
  // program that attaches later (the library's Vm::Exec) runs commands with.
  std::vector<std::string> env;
  std::string vmm;  // "qemu" when QEMU runs it (--vmm qemu); empty: virtkit's VMM
};

enum class VmState {
  kRunning,
  kExited,
  kCheckpointed,  // ended by `vk checkpoint`: its checkpoint is in its state directory
  kDead,          // VMM gone without recording an exit
};

// The VM's vm.json, written atomically (readers never see half a file).
Result<void> WriteVmRecord(const VmDir& dir, const VmRecord& record);
Result<VmRecord> ReadVmRecord(const VmDir& dir);

std::optional<uint64_t> ProcessStartTime(pid_t pid);
// Whether record.pid is still the very process that wrote the record.
bool VmmAlive(const VmRecord& record);
VmState StateOf(const VmRecord& record);

}  // namespace vk
