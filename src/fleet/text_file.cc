#include "fleet/text_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/unique_fd.h"

namespace vk::fleet {

Result<std::string> ReadUserTextFile(const std::string& path, uint64_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    int err = errno;
    return Error(err == ENOENT ? ErrorKind::kNotFound : ErrorKind::kUsage,
                 path + ": " + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return Error(ErrorKind::kUsage, path + ": not a regular file");
  std::string text;
  char chunk[4096];
  while (true) {
    ssize_t n = ::read(fd.get(), chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error(ErrorKind::kUsage, path + ": " + std::strerror(errno));
    if (n == 0) return text;
    if (text.size() + static_cast<size_t>(n) > max_bytes)
      return Error(ErrorKind::kUsage,
                   path + ": larger than " + std::to_string(max_bytes) + " bytes");
    text.append(chunk, static_cast<size_t>(n));
  }
}

}  // namespace vk::fleet
