// Reads a file the user wrote (compose file, .env, env_file). Unlike
// base/file_io.h's ReadFileBytes, which guards our own state files, a
// symlink is followed: `docker-compose.yml -> deploy/dev.yml` is common.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"

namespace vk::fleet {

// kNotFound when missing; kUsage when unreadable, not a regular file or over
// `max_bytes` (bounds the memory a mistaken path, e.g. a disk image, costs).
Result<std::string> ReadUserTextFile(const std::string& path, uint64_t max_bytes);

}  // namespace vk::fleet
