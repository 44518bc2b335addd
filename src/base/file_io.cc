#include "base/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/unique_fd.h"

namespace vk {

Result<void> WriteAllAt(int fd, std::span<const uint8_t> data, off_t offset) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        ::pwrite(fd, data.data() + done, data.size() - done, offset + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error::FromErrno("write");
    done += static_cast<size_t>(n);
  }
  return Ok();
}

Result<std::vector<uint8_t>> ReadFileBytes(const std::string& path, uint64_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return Error::FromErrno("open " + path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Error::FromErrno("stat " + path);
  if (!S_ISREG(st.st_mode)) return Error(path + " is not a regular file");
  // Read to EOF instead of trusting st_size: sysfs and procfs files report
  // a page (or 0) whatever they hold.
  std::vector<uint8_t> bytes;
  uint8_t chunk[4096];
  while (true) {
    ssize_t n = ::read(fd.get(), chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno("read " + path);
    if (n == 0) return bytes;
    if (bytes.size() + static_cast<size_t>(n) > max_bytes) {
      return Error(path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
    bytes.insert(bytes.end(), chunk, chunk + n);
  }
}

Result<UniqueFd> OpenUserOutputFile(const std::string& path, bool append) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : 0), 0600));
  if (!fd) return Error::FromErrno("open " + path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Error::FromErrno("stat " + path);
  // O_TRUNC only for regular files: a device or FIFO has nothing to cut.
  if (!append && S_ISREG(st.st_mode) && ::ftruncate(fd.get(), 0) != 0) {
    return Error::FromErrno("truncate " + path);
  }
  return fd;
}

}  // namespace vk
