// `-d`: the VMM continues in a background process (its own session, output
// in the VM's vm.log) while the foreground process returns as soon as the
// guest agent answers on exec.sock, so a following `vk exec` never races the
// boot.
#pragma once

#include <string>

#include "base/result.h"
#include "runtime/launch.h"
#include "runtime/vm_dir.h"

namespace vk {

enum class DetachRole { kParent, kChild };

// A name for an unnamed detached VM, e.g. "vm-3f9a2c".
std::string GeneratedVmName();

// Forks. In the child (returns kChild) stdio is redirected and the launch goes
// on; the parent returns kParent once the VM is ready, or an error (the VM
// died or did not answer within options.boot_timeout; it is then killed).
Result<DetachRole> Detach(const LaunchOptions& options, const VmDir& dir);

// Connects to a VM's exec.sock and completes the protocol hello.
Result<void> ProbeAgent(const std::string& exec_socket, int timeout_ms);

}  // namespace vk
