// Warm templates (docs/snapshots.md): a guest booted once per VM shape to
// the point where vk-agent waits for its assignment, saved as a snapshot in
// ~/.cache/virtkit/snapshots/<key>, and restored for every later VM of that
// shape. The host then hands the agent what makes the VM unique (params,
// entropy, wall clock, MAC: proto/assignment.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "proto/assignment.h"
#include "vmm/guest_files.h"
#include "vmm/machine.h"

namespace vk {

// Guest vsock port the template's agent listens on for its assignment.
inline constexpr uint32_t kTemplatePort = 1023;

// What must be the same for two VMs to share a template: everything the
// guest kernel saw while it booted (CPUs, memory, devices and their
// read-only flags, the command line).
struct TemplateShape {
  uint32_t cpus = 1;
  uint64_t memory_bytes = 0;
  bool root_read_only = false;  // vda
  bool root_dir = false;        // "/" over virtio-fs (tag vkroot) in vda's place
  bool scratch = false;         // vdb (the writable layer of `vk run`)
  bool net = false;             // a virtio-net device (slot 0)
  uint32_t shares = 0;          // virtio-fs devices vkfs0..N-1
  std::string cmdline;          // the template's kernel command line
};

// The guest a template is made of: its fingerprint
// (MachineConfig::guest_identity) and its bytes, loaded only when the
// template has to be made.
struct TemplateGuest {
  std::string identity;
  std::function<Result<GuestBytes>()> load;
};

// The directory of shape's template: $XDG_CACHE_HOME/virtkit/snapshots/KEY
// (default ~/.cache/...). The key hashes the shape, the guest identity, this
// vk build and the snapshot format.
Result<std::string> TemplateDirectory(const TemplateShape& shape, const TemplateGuest& guest);

// $XDG_CACHE_HOME/virtkit (default ~/.cache/virtkit): templates, and other
// files made once and reused (decompressed libkrun kernels).
Result<std::string> CacheRoot();

struct TemplateOptions {
  std::chrono::seconds boot_timeout{900};
  bool show_progress = true;  // one line on stderr while a template is made
};

// The template's directory, made now if missing or unusable. Concurrent
// callers make it once (a file lock); the others wait and use it.
// `add_template_devices` adds the shape's devices with empty disk slots, in
// the order launch adds a VM's (net, vda, vdb, shares, vsock, rng, console);
// the snapshot's device list catches any drift. Its vsock socket must be
// BUILD_DIR/vsock.sock.
Result<std::string> EnsureTemplate(
    const TemplateShape& shape, const TemplateGuest& guest,
    const std::function<Result<void>(Machine&, const std::string& build_dir)>& add_template_devices,
    const TemplateOptions& options);

// Removes a template that failed to restore, so the next EnsureTemplate
// makes a fresh one.
void DiscardTemplate(const std::string& dir);

// After a restore from a template: connects to the agent through the VM's
// vsock socket, waits for its greeting, hands it `assignment` and waits for
// its OK. The agent's ERR message becomes the error.
Result<void> AssignTemplateVm(const std::string& vsock_socket, const proto::Assignment& assignment,
                              std::chrono::milliseconds timeout);

// 64 bytes from getrandom and the current wall clock, plus `params`/`mac`.
Result<proto::Assignment> NewAssignment(std::string params, std::vector<uint8_t> mac);

}  // namespace vk
