// A snapshot on disk (docs/snapshots.md): a directory holding
//   state   header, identity, the machine's saved state, SHA-256 of all that
//   memory  guest RAM as a sparse file (vmm/memory_file.h)
//
// The identity says what the snapshot can only be restored into: the same
// VMM build, guest (kernel + agent), host CPU, vCPU count, memory size and
// device layout. Anything else is refused with a message naming what
// differs; a file that fails its checksum or is cut short is refused whole,
// never half-loaded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/guest_memory.h"
#include "base/result.h"
#include "base/unique_fd.h"

namespace vk {

// Bumped whenever the layout of `state` changes.
inline constexpr uint32_t kSnapshotFormatVersion = 1;

struct SnapshotIdentity {
  std::string vmm_build;  // the running binary's ELF build ID
  std::string guest;      // the caller's fingerprint of kernel + initrd (+ what boots them)
  std::string host_cpu;   // vendor, family/model/stepping and feature words
  uint32_t cpus = 0;
  uint64_t memory_bytes = 0;
  std::vector<uint32_t> devices;  // virtio device types, in slot order

  // "" when equal, else what differs, for the error message.
  std::string Difference(const SnapshotIdentity& other) const;
};

// This binary's build ID and this host's CPU, for SnapshotIdentity.
std::string CurrentVmmBuild();
std::string CurrentHostCpu();

// What a snapshot of `guest` with that many vCPUs and that much memory must
// say to be restored by this vk on this host (the device list is left empty:
// the restore checks it as it adds the devices).
SnapshotIdentity ExpectedSnapshotIdentity(std::string guest, uint32_t cpus, uint64_t memory_bytes);

struct LoadedSnapshot {
  SnapshotIdentity identity;
  std::vector<uint8_t> machine_state;  // what Machine wrote
  UniqueFd memory;                     // the memory file, read-only
};

// Writes `dir` (which must not exist) atomically: a temporary sibling is
// filled and renamed into place.
Result<void> WriteSnapshot(const std::string& dir, const SnapshotIdentity& identity,
                           const std::vector<uint8_t>& machine_state, const GuestMemory& memory);

// Reads and checks `dir` against `expected` (everything but the device list
// must match; the caller checks the devices as it adds them).
Result<LoadedSnapshot> ReadSnapshot(const std::string& dir, const SnapshotIdentity& expected);

}  // namespace vk
