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

#include <functional>
#include <string>

#include "base/result.h"
#include "runtime/checkpoint_spec.h"
#include "runtime/vm_dir.h"
#include "vmm/machine.h"

namespace vk {

// The snapshot inside the VM's checkpoint.
std::string CheckpointSnapshotDirectory(const VmDir& state_dir);

// Runs while the machine is paused, before the spec is written: records in
// it what only that moment knows (how far the VM's command has got), or
// refuses the checkpoint.
using PausedHook = std::function<Result<void>(CheckpointSpec& spec)>;

// Saves `machine` (a running VM described by `spec`) and copies its
// writable disks while it is paused with its devices held, so memory and
// disks agree. Returns the checkpoint's directory. The machine is left
// paused, also on failure: the caller resumes or stops it.
Result<std::string> WriteCheckpoint(Machine& machine, CheckpointSpec spec, const VmDir& state_dir,
                                    const PausedHook& while_paused = {});

// A VM ended by its checkpoint: its command's session has since handed on
// the output that had left the guest before the pause. Records the final
// offsets in the checkpoint's spec (replaced atomically), so the restored
// agent sends none of it twice. Nothing changes for a checkpoint of
// another command, or one already past `progress`.
Result<void> RecordFinalCommandProgress(const VmDir& state_dir,
                                        const proto::AttachRequest& progress);

// The spec of the VM's checkpoint, or why there is none usable.
Result<CheckpointSpec> ReadCheckpointSpec(const VmDir& state_dir);

// Puts the checkpoint's disk copies back where the VM's disks are (each
// through a temporary file and a rename: a failed copy leaves the old disk),
// so the checkpoint itself stays intact and can be restored again.
Result<void> RestoreCheckpointDisks(const CheckpointSpec& spec, const VmDir& state_dir);

// Makes a restored guest current through its agent's control port
// (`control_socket`, proto/control_line.h): its TCP connections to peers
// outside the VM are reset (their other ends are gone; a reader blocked on
// one would wait forever), its wall clock is set to the host's (it stood
// still while the VM was saved) and 64 bytes from getrandom reseed its CRNG
// (every restore of one checkpoint resumes the same random state). The kvmclock is not moved
// forward instead: a jump of more than ~18 min overflows the 6.1 guest kernel's timekeeping until
// its next tick (docs/snapshots.md).
Result<void> RefreshRestoredGuest(const std::string& control_socket);

}  // namespace vk
