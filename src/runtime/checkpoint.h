// Checkpoints of named VMs (`vk checkpoint`, `vk restore`; docs/snapshots.md,
// "Checkpoints"). A checkpoint is a directory in the VM's state directory:
//
//   checkpoint/spec.json   how to rebuild the machine (vmm/checkpoint_spec.h)
//   checkpoint/snapshot/   the paused machine (vmm/snapshot_file.h)
//   checkpoint/vda.img     sparse copy of a writable root disk, or
//   checkpoint/vdb.img     of the scratch disk (vk run's writable layer)
//
// It is written as checkpoint.tmp and renamed into place (an older
// checkpoint is replaced only by a complete new one).
#pragma once

#include <string>

#include "base/result.h"
#include "runtime/checkpoint_spec.h"
#include "runtime/vm_dir.h"
#include "vmm/machine.h"

namespace vk {

// The snapshot inside the VM's checkpoint.
std::string CheckpointSnapshotDirectory(const VmDir& state_dir);

// Saves `machine` (a running VM described by `spec`) and copies its
// writable disks while it is paused with its devices held, so memory and
// disks agree. Returns the checkpoint's directory. The machine is left
// paused, also on failure: the caller resumes or stops it.
Result<std::string> WriteCheckpoint(Machine& machine, const CheckpointSpec& spec,
                                    const VmDir& state_dir);

// The spec of the VM's checkpoint, or why there is none usable.
Result<CheckpointSpec> ReadCheckpointSpec(const VmDir& state_dir);

// Puts the checkpoint's disk copies back where the VM's disks are (each
// through a temporary file and a rename: a failed copy leaves the old disk),
// so the checkpoint itself stays intact and can be restored again.
Result<void> RestoreCheckpointDisks(const CheckpointSpec& spec, const VmDir& state_dir);

// Makes a restored guest current through its agent's control port
// (`control_socket`, proto/control_line.h): its wall clock is set to the
// host's (it stood still while the VM was saved) and 64 bytes from
// getrandom reseed its CRNG (every restore of one checkpoint resumes the
// same random state). The kvmclock is not moved forward instead: a jump of
// more than ~18 min overflows the 6.1 guest kernel's timekeeping until its
// next tick (docs/snapshots.md).
Result<void> RefreshRestoredGuest(const std::string& control_socket);

}  // namespace vk
