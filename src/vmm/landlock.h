// Landlock (Linux 5.13+) for the VMM sandbox: a thread that applies a
// ruleset reaches by path only the trees the ruleset names, with the
// rights it names; fds it already holds (disks, sockets) keep working.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vk::sandbox {

enum class PathAccess {
  kReadOnly,   // read files, list directories
  kReadWrite,  // everything below (a read-write virtio-fs share)
  kSockets,    // create and remove unix sockets in the directory (vsock)
};

struct PathRule {
  std::string path;
  PathAccess access = PathAccess::kReadOnly;
};

// The highest Landlock ABI this kernel offers; 0 without Landlock.
int LandlockAbi();

// A ruleset allowing only `rules` (none: no path access at all). An invalid
// fd when the kernel has no Landlock: the caller goes on without it.
Result<UniqueFd> CreateLandlockRuleset(const std::vector<PathRule>& rules);

// Restricts the calling thread (no_new_privs must be set) to `ruleset`.
Result<void> ApplyLandlock(int ruleset);

}  // namespace vk::sandbox
