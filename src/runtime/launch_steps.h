// The steps of a launch that do not depend on which VMM runs the guest
// (runtime/launch.cc for virtkit's, runtime/qemu_launch.cc for QEMU): where
// the console goes, the VM's vm.json, the agent's vsock sockets, what the
// sandbox leaves reachable and how the VM's end becomes vk's result.
#pragma once

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "runtime/launch.h"
#include "runtime/vm_dir.h"
#include "runtime/vm_state.h"
#include "virtio/vsock/vsock_device.h"
#include "vmm/host_kvm.h"
#include "vmm/machine.h"
#include "vmm/sandbox.h"

namespace vk {

// Whether the VM runs a command in a session with this VMM (its own, or the
// one a restored checkpoint's agent kept).
bool HasCommand(const LaunchOptions& options);

// Where the serial console goes: a file the user named, the terminal when the
// disk's own init runs (it is the VM's only output), or a log in the run dir.
Result<UniqueFd> OpenConsole(const LaunchOptions& options, const VmDir& run_dir);

// Why a VM that reported no status stopped. `console_tail`: the console's
// last lines (a panic shows there).
Error ExplainStop(const MachineExit& exit, const std::string& console_tail, bool had_command);

// The vCPUs the host can boot of those asked for (PVM: one), with a notice.
unsigned ChooseVcpus(unsigned requested, KvmFlavor flavor);

// What the sandbox leaves reachable by path once the VM runs.
sandbox::ServedPaths SandboxPaths(const LaunchOptions& options, const std::string& run_dir);

VmRecord RecordFor(const LaunchOptions& options, unsigned cpus, uint64_t memory_bytes);

// The agent's vsock device: exec.sock and control.sock lead to its servers,
// vsock.sock_P to host port P, plus the user's listening ports.
virtio::VsockConfig AgentVsockConfig(const LaunchOptions& options, const VmDir& run_dir);

// Where the VMM listens for a user's listen=true vsock port: in the run
// directory, the only place its sandboxed threads may make sockets; the
// user's path is a symlink to it (LinkVsockPorts).
std::string ListenLinkTarget(const VmDir& run_dir, uint32_t port);

}  // namespace vk
