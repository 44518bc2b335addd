// The memory file of a snapshot: guest RAM ranges back to back, in layout
// order, as a sparse file. Only pages the guest touched (resident on the
// host, or, for a guest restored from a memory file, held by that file) and
// that hold something other than zeros are written; everything
// else stays a hole and reads back as zeros, so the file costs what the
// guest used, not what it was given. GuestMemory::MapFile maps it back.
#pragma once

#include <cstdint>

#include "base/guest_memory.h"
#include "base/result.h"

namespace vk {

struct MemoryFileStats {
  uint64_t pages_written = 0;
  uint64_t bytes_total = 0;  // the file's size: all of guest RAM
};

// Writes `memory` into `fd` (an empty regular file). The guest must not run.
Result<MemoryFileStats> WriteMemoryFile(const GuestMemory& memory, int fd);

}  // namespace vk
