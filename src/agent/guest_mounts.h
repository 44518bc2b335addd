// What the host asked the agent to mount into the final root before the
// command runs (vk.tmpfs, vk.fs, vk.bind: agent/mount_params.h), mount
// points created as needed.
#pragma once

#include <vector>

#include "agent/mount_params.h"
#include "base/result.h"

namespace vk::agent {

// tmpfs mounts, then virtio-fs shares, then bind mounts: a bind's source
// usually lies in a share (a build secret), and a share may lie in a tmpfs.
Result<void> MountGuestMounts(const std::vector<TmpfsMount>& tmpfs,
                              const std::vector<FsMount>& shares,
                              const std::vector<BindMount>& binds);

// virtio-fs shares (vk.fs=...).
Result<void> MountShares(const std::vector<FsMount>& mounts);
// tmpfs mounts (vk.tmpfs=...), nosuid and nodev.
Result<void> MountTmpfs(const std::vector<TmpfsMount>& mounts);
// Bind mounts (vk.bind=...), nosuid and nodev; a missing target becomes an
// empty file or directory (the source's kind) first.
Result<void> MountBinds(const std::vector<BindMount>& mounts);

}  // namespace vk::agent
