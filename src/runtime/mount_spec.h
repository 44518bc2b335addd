// The guest mounts of a run besides shares (launch.h GuestTmpfs, GuestBind):
// docker's --tmpfs syntax, and the checks that keep every guest path one
// the agent's boot words can carry (docs/protocol.md, "Boot parameters":
// words are split at whitespace, fields at ':').
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "runtime/launch.h"

namespace vk {

// The agent's bound on a mount word's path (agent/mount_params.h).
inline constexpr size_t kMaxGuestMountPath = 4096;

// docker's --tmpfs PATH[:OPTIONS]: OPTIONS are comma-separated, size=SIZE
// (64m, 1g: runtime ParseSize units) and mode=OCTAL; rw, nosuid and nodev
// are accepted as what vk does anyway. Errors are kUsage.
Result<GuestTmpfs> ParseTmpfsFlag(std::string_view text);

// An absolute guest path without whitespace, ':' or ',', "." or ".."
// components, at most kMaxGuestMountPath bytes; `what` names it in the
// error (kUsage).
Result<void> CheckGuestMountPath(const std::string& path, const std::string& what);

// Both paths of a bind, the tmpfs path: CheckGuestMountPath.
Result<void> CheckGuestMounts(const LaunchOptions& options);

}  // namespace vk
