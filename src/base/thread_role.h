// Thread roles: each long-lived thread of a VMM process says what it is when
// it starts, so the process's sandbox (vmm/sandbox.h) can confine it to the
// system calls that role needs. Modules below vmm (net, virtio) announce
// their threads through this hook without linking the sandbox itself.
#pragma once

namespace vk {

enum class ThreadRole {
  kVcpu,       // runs KVM_RUN and handles exits (port I/O, MMIO, device activation)
  kDevice,     // the device event loop: virtio devices, in-process network
  kNetEgress,  // libslirp's thread: host sockets on the guest's behalf
  kSession,    // `vk run`'s command session: stdio <-> the agent's exec channel
  // vhost-user back ends serving an external VMM (--vmm qemu): a device
  // loop that also maps the guest memory the VMM sends and, as vsock's
  // device is activated here rather than on a vCPU, makes its sockets.
  kVhostUser,
};

// Called on a thread that is about to take `role`. Must not return if it
// cannot confine the thread as it promised (a half-sandboxed VMM is worse
// than a failed one), so it has no error to report.
using ThreadSandbox = void (*)(ThreadRole role);

// Installs the process's sandbox hook (nullptr: none, the default).
void SetThreadSandbox(ThreadSandbox sandbox);

// Confines the calling thread to `role` if a sandbox is installed; without
// one (tests, libraries) it does nothing.
void EnterThreadRole(ThreadRole role);

}  // namespace vk
