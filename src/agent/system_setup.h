// What vk-agent does to the machine as PID 1 before running anything:
// kernel filesystems, the root disk and switch_root, hostname, loopback.
#pragma once

#include <string>

#include "agent/init_params.h"
#include "base/result.h"

namespace vk::agent {

// /proc, /sys and /dev (devtmpfs) inside the initramfs.
Result<void> MountEarlyFilesystems();
// Mounts the root disk at /newroot and makes it "/" (switch_root by hand:
// move the kernel filesystems, mount --move the root over /, chroot).
Result<void> SwitchToRootDisk(const InitParams& params);
// Inside the final root: dev/pts, dev/shm, /tmp, /run, cgroup2 and the
// /dev/fd-style links. Missing mount points on a read-only root are
// reported on the console and skipped.
// `host_dir_root`: "/" is a host directory over virtio-fs (libkrun's
// krun_set_root), whose own /tmp and /run stay visible, as libkrun's init
// leaves them; other roots get tmpfs there.
Result<void> MountSystemFilesystems(bool host_dir_root);
Result<void> SetHostname(const std::string& hostname);
// mkdir -p.
Result<void> MakeDirectories(const std::string& path);
Result<void> WriteEtcFiles(const std::string& hostname);
Result<void> BringUpLoopback();

// One line on the console, prefixed "vk-agent: ".
void ConsoleLine(const std::string& message);

// Leaves the root filesystem clean (remounted read-only) and powers off.
// Returns only if the kernel refused.
void PowerOffMachine();

}  // namespace vk::agent
