#include "base/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>

namespace vk {
namespace {

Result<UniqueFd> OpenLockFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd) return Error::FromErrno("open lock " + path);
  return fd;
}

}  // namespace

Result<FileLock> FileLock::Acquire(const std::string& path, Mode mode) {
  UniqueFd fd = VK_TRY(OpenLockFile(path));
  while (::flock(fd.get(), mode == Mode::kShared ? LOCK_SH : LOCK_EX) != 0) {
    if (errno != EINTR) return Error::FromErrno("lock " + path);
  }
  return FileLock(std::move(fd));
}

Result<FileLock> FileLock::TryAcquire(const std::string& path) {
  UniqueFd fd = VK_TRY(OpenLockFile(path));
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return FileLock(UniqueFd());
    return Error::FromErrno("lock " + path);
  }
  return FileLock(std::move(fd));
}

}  // namespace vk
