// Whole-buffer file I/O: the retry loops for short reads/writes and EINTR
// live here once.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vk {

// pwrite()s all of `data` at `offset`.
Result<void> WriteAllAt(int fd, std::span<const uint8_t> data, off_t offset);

// Reads a whole regular file; refuses one larger than `max_bytes` (a file we
// read may have been replaced by something huge).
Result<std::vector<uint8_t>> ReadFileBytes(const std::string& path, uint64_t max_bytes);

// Opens for writing a file the user named (e.g. `vk launch --console
// FILE`): a new file is created 0600; an existing one is written as it is
// (a regular file is truncated unless `append`) and its mode and owner are
// never changed, since it may be /dev/null, a FIFO, a terminal or a symlink
// such as /dev/stderr. (State files of our own use OpenPrivateFile.)
Result<UniqueFd> OpenUserOutputFile(const std::string& path, bool append);

}  // namespace vk
