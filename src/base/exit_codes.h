// The one table of exit codes: what `vk` returns (README, "Exit codes") and
// what the agent reports for a command it could not start. Docker's and the
// shell's conventions where they exist; 120-125 are vk's own failures.
#pragma once

#include "base/result.h"

namespace vk {

inline constexpr int kExitNoKvm = 120;          // /dev/kvm missing or not permitted
inline constexpr int kExitGuestPanic = 121;     // guest kernel panicked / crashed
inline constexpr int kExitTimeout = 122;        // the VM ran past --timeout
inline constexpr int kExitDiskError = 123;      // disk image missing or unusable
inline constexpr int kExitGuestNoStatus = 124;  // guest stopped without an exit status
inline constexpr int kExitUsage = 125;          // vk itself failed / bad usage
inline constexpr int kExitCannotRun = 126;      // command found but not runnable
inline constexpr int kExitNotFound = 127;       // command not found in the guest

// The exit code for a failure of vk (not of the guest's command).
int ExitCodeFor(ErrorKind kind);

}  // namespace vk
