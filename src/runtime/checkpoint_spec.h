// What `vk restore` needs to rebuild a checkpointed VM's machine: the same
// devices in the same order with the same backends (disks, network, console,
// sockets), the same vCPUs and memory (docs/snapshots.md, "Checkpoints").
// Stored as versioned JSON (spec.json) beside the checkpoint's snapshot.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "runtime/launch.h"

namespace vk {

// Bumped whenever a field's meaning changes; another version is refused.
// 2: the VM's command ("command").
inline constexpr uint32_t kCheckpointSpecVersion = 2;

struct CheckpointSpec {
  std::string name;
  std::string display_name;  // what `vk ps` shows (the image)
  std::string hostname;      // the DHCP name on the LAN (a switch MAC comes from it)
  std::string guest;         // the guest identity (vmm/launch.cc GuestIdentity)
  uint32_t cpus = 1;         // as booted (after the host's vCPU limit)
  uint64_t memory_bytes = 0;
  std::string disk;  // vda, absolute
  bool read_only = false;
  std::string scratch;       // vdb (vk run's writable layer), absolute; empty: none
  std::string console_path;  // empty: the VMM's stdout (vm.log when detached)
  NetworkOptions network;    // paths in it absolute
  // A detached VM's command, which its agent keeps across the checkpoint:
  // its pid and how much of its output the host had handed on, where the
  // restored VMM re-attaches (docs/protocol.md, "Re-attaching").
  std::optional<proto::AttachRequest> command;
};

// A disk the guest writes to: its state belongs to the checkpoint, so the
// checkpoint keeps a copy (`file`, in the checkpoint directory) that a
// restore puts back at `path`.
struct WritableDisk {
  std::string path;
  std::string file;
};
// The scratch disk (vdb) when there is one, else the root disk unless it is
// read-only.
std::vector<WritableDisk> WritableDisks(const CheckpointSpec& spec);

// The spec of a running VM launched with `options`, or why it cannot be
// checkpointed (what to do instead). `cpus` is what the machine got;
// `scratch` the path of its scratch disk ("" for none); `guest` its guest
// identity. Relative paths are made absolute here (`vk restore` may run
// elsewhere). A command's progress is left for the paused moment to fill in.
Result<CheckpointSpec> SpecForLaunch(const LaunchOptions& options, uint32_t cpus,
                                     const std::string& scratch, const std::string& guest);

// The launch options that rebuild the same machine (no command: a restored
// VM's processes are the saved ones; it re-attaches to a kept command).
LaunchOptions LaunchOptionsFor(const CheckpointSpec& spec);

std::string EncodeCheckpointSpec(const CheckpointSpec& spec);
// Refuses another version, a truncated or malformed document and missing
// fields, naming what is wrong.
Result<CheckpointSpec> DecodeCheckpointSpec(std::string_view text);

}  // namespace vk
