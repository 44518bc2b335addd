// What the guest is told about the VM it is: the kernel command line of a
// cold boot, the vk.* words for the agent (on that command line, or in a
// warm template clone's assignment), and the request for its command.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "proto/messages.h"
#include "runtime/launch.h"
#include "vmm/host_kvm.h"

namespace vk {

// Host vsock port the agent calls for its command (docs/protocol.md).
inline constexpr uint32_t kLaunchPort = 1024;
// How long a guest restored from a template may take to answer the host
// (it is already booted: seconds even on a loaded PVM host).
inline constexpr auto kAssignmentTimeout = std::chrono::seconds(120);

// The virtio-fs tag of LaunchOptions::root_dir's device.
inline constexpr char kRootShareTag[] = "vkroot";

// Ports the agent and the VMM talk on (host and guest side alike): a VM's
// user cannot have them (LaunchOptions::vsock_ports).
bool IsAgentVsockPort(uint32_t port);

// virtio-fs tags, in the order the shares' devices are added.
std::string ShareTag(size_t index);
// The tag share `index` of `options` is served under (its own, or ShareTag).
std::string ShareTagOf(const LaunchOptions& options, size_t index);
// The per-VM vk.* words for the agent.
std::string GuestParams(const LaunchOptions& options, bool overlay);
// The console= device of a VM (LaunchOptions::kernel_console).
std::string KernelConsole(const LaunchOptions& options);
// The command line every guest of this host boots with (console, panic
// handling, the KVM flavor's quirks).
// The kernel console of ordinary VMs: COM1, whose output is the console log.
inline constexpr char kDefaultKernelConsole[] = "ttyS0";
std::string BaseCmdline(KvmFlavor flavor, const std::string& console = kDefaultKernelConsole);
// VIRTKIT_KERNEL_ARGS: for looking into a guest's boot (e.g. "loglevel=7").
std::string ExtraKernelArgs();
// A cold boot's whole command line.
std::string GuestCmdline(const LaunchOptions& options, KvmFlavor flavor, bool overlay);
// The exec request for the VM's command (`vk run -- CMD`, `vk launch -- CMD`).
proto::ExecRequest CommandRequest(const LaunchOptions& options);

}  // namespace vk
