// The guest's initramfs: an uncompressed cpio "newc" archive, built in memory
// at launch, holding vk-agent as /init and the few nodes it needs before it
// can mount anything (Linux Documentation/driver-api/early-userspace/
// buffer-format.rst describes the format the kernel unpacks).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"

namespace vk {

// /dev, /dev/console (char 5:1, for the kernel's early console and init's
// stdio), /proc, /sys, /newroot, and /init (the agent, mode 0755). Entries
// carry uid/gid 0 and mtime 0, so the archive is reproducible. It is left
// uncompressed: the guest kernel has no decompressors, and unpacking is
// cheaper than inflating under an emulated kernel.
Result<std::vector<uint8_t>> BuildInitramfs(std::span<const uint8_t> agent_binary);

}  // namespace vk
