// Whole-buffer file I/O: the retry loops for short reads/writes and EINTR
// live here once.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"

namespace vk {

// pwrite()s all of `data` at `offset`.
Result<void> WriteAllAt(int fd, std::span<const uint8_t> data, off_t offset);

// Reads a whole regular file; refuses one larger than `max_bytes` (a file we
// read may have been replaced by something huge).
Result<std::vector<uint8_t>> ReadFileBytes(const std::string& path, uint64_t max_bytes);

}  // namespace vk
