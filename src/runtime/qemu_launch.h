// `vk run --vmm qemu`, `vk launch --vmm qemu` (also VIRTKIT_VMM=qemu): the
// same guest (our kernel, the agent's initramfs, the image's base and
// scratch disks) run by qemu-system-x86_64 -M microvm instead of virtkit's
// VMM, for hosts whose platform mandates QEMU. docs/backends.md.
//
// How it is put together (and why):
// - This process stays the VM's supervisor (vm.json's pid, what `vk stop`
//   and `vk rm -f` signal); QEMU is its child, in its own session (a ^C on
//   the terminal reaches vk, which forwards it to the command) and killed
//   by the kernel if vk dies (PR_SET_PDEATHSIG).
// - The agent's channel is virtio-vsock served by our own VsockDevice over
//   vhost-user (QEMU's vhost-user-vsock-device): no /dev/vhost-vsock, no
//   change to the agent, and exec.sock, control.sock, vsock.sock appear in
//   the run directory exactly as with our VMM, so `vk exec/stop/forward`
//   work unchanged. (The issue proposed virtio-serial; vhost-user-vsock
//   needs no host module either and keeps one agent transport.)
// - Shares are our virtio-fs engine over vhost-user (QEMU's
//   vhost-user-fs-device), served in this process rather than by `vk
//   virtiofsd` children: every listener exists before QEMU starts, and one
//   process is stopped and sandboxed. The LAN is served on a unix socket
//   QEMU joins with `-netdev stream`.
// - Everything QEMU-facing runs on one event-loop thread confined to the
//   kVhostUser sandbox role; the main thread only spawns, watches (pidfd,
//   QMP) and reaps QEMU.
// - The VM's end: the command's status from the agent as always; else
//   QEMU's isa-debug-exit status; QMP tells a KVM internal error (QEMU
//   pauses instead of exiting) and a guest reset apart (runtime/qemu_exit.h).
#pragma once

#include "base/result.h"
#include "runtime/launch.h"
#include "runtime/vm_dir.h"

namespace vk {

// Refuses, before anything is created, what only virtkit's VMM does
// (templates are skipped silently: QEMU always boots cold), and finds a
// usable QEMU. Errors are kUsage and name the option.
Result<void> CheckQemuLaunch(const LaunchOptions& options);

// Runs the VM under QEMU from this process (after any Detach); returns what
// Launch returns.
Result<int> LaunchWithQemu(const LaunchOptions& options, VmDir* run_dir);

}  // namespace vk
