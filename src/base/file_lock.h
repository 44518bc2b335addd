// FileLock: an exclusive flock(2) on a lock file, held for the object's
// lifetime. Used to make concurrent `vk` processes do shared work once
// (downloading a blob, converting an image): the second waits, then finds
// the result in place.
#pragma once

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vk {

class FileLock {
 public:
  enum class Mode { kExclusive, kShared };
  // Blocks until the lock is ours; creates `path` if needed.
  static Result<FileLock> Acquire(const std::string& path, Mode mode = Mode::kExclusive);
  // Returns an invalid lock (valid() false) instead of waiting.
  static Result<FileLock> TryAcquire(const std::string& path);

  bool valid() const { return fd_.valid(); }

 private:
  explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;  // the lock is released when the descriptor is closed
};

}  // namespace vk
