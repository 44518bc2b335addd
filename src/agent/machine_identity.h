// What makes a guest restored from a warm template one particular VM
// (docs/protocol.md, "Template assignment"): clones of one snapshot start
// with the same kernel random state, the clock of the moment the template
// was saved, the template's MAC address and disks of capacity 0. Each step
// can be repeated (a second assignment after a lost "OK" is harmless).
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>

#include "agent/init_params.h"
#include "base/result.h"
#include "proto/assignment.h"

namespace vk::agent {

// Mixes `entropy` into the kernel's input pool crediting 8 bits per byte
// (RNDADDENTROPY), then reseeds the CRNG now (RNDRESEEDCRNG): credit alone
// does nothing once the CRNG is initialised, and the template's CRNG key is
// the same in every clone. Needs CAP_SYS_ADMIN.
Result<void> AddEntropy(std::span<const uint8_t> entropy);

// clock_settime(CLOCK_REALTIME). Needs CAP_SYS_TIME.
Result<void> SetWallClock(uint64_t ns_since_epoch);

// SIOCSIFHWADDR on a link that is still down (before any network
// configuration). Needs CAP_NET_ADMIN.
Result<void> SetMacAddress(const std::string& interface, std::span<const uint8_t> mac);

// A template's disks have capacity 0 until the host attaches the real files
// after the restore and raises a virtio config-change interrupt (virtio 1.2
// §5.2.4: `capacity`; §4.2.2: InterruptStatus bit 1). Polls
// SYSFS_ROOT/class/block/NAME/size for `device` (/dev/NAME) until it is
// nonzero, up to `timeout`.
Result<void> WaitForDiskCapacity(const std::string& sysfs_root, const std::string& device,
                                 std::chrono::milliseconds timeout);

// All of the above in order: entropy, clock, MAC (if given, on eth0), then
// the root disk and the overlay disk (those named /dev/...).
Result<void> ApplyAssignmentToMachine(const proto::Assignment& assignment,
                                      const InitParams& params);

}  // namespace vk::agent
