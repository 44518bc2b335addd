// Paths inside a directory that stands for a guest's root (a rootfs hook's
// staging directory, a rootfs_path directory): resolved by the kernel with
// RESOLVE_IN_ROOT (openat2), so ".." and absolute symlinks stay inside it as
// they would in the guest and nothing on the host outside it is touched.
#pragma once

#include <string>
#include <string_view>

#include "base/unique_fd.h"
#include "virtkit/virtkit.h"

namespace virtkit::internal {

// "/etc/ssh/x" -> {"/etc/ssh", "x"}; kUsage for a path that is not absolute
// or names the root itself.
Result<std::pair<std::string, std::string>> SplitGuestPath(std::string_view guest_path);

// Opens `path` (guest-absolute) under `root` with open(2) `flags`.
Result<vk::UniqueFd> OpenInRoot(int root, std::string_view path, int flags, mode_t mode = 0);
// mkdir -p of `path` under `root`; new directories get `mode`, uid and gid.
Result<vk::UniqueFd> MakeDirectoriesInRoot(int root, std::string_view path, mode_t mode,
                                           uint32_t uid, uint32_t gid);

// Reads a regular file (at most `max_bytes`).
Result<std::string> ReadAll(int fd, std::string_view what, size_t max_bytes);

// A guest file may be read into memory up to this size (configs, keys).
inline constexpr size_t kMaxReadBytes = 64u << 20;

}  // namespace virtkit::internal
