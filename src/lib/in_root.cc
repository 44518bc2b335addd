#include "lib/in_root.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace virtkit::internal {
namespace {

Error Errno(std::string_view what, int err) {
  ErrorKind kind = err == ENOENT || err == ENOTDIR ? ErrorKind::kNotFound : ErrorKind::kInternal;
  return Error(kind, std::string(what) + ": " + std::strerror(err));
}

}  // namespace

Result<std::pair<std::string, std::string>> SplitGuestPath(std::string_view guest_path) {
  std::string path(guest_path);
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (path.empty() || path.front() != '/' || path == "/") {
    return Error(ErrorKind::kUsage,
                 "guest path \"" + std::string(guest_path) + "\" must be absolute (and not /)");
  }
  size_t slash = path.rfind('/');
  std::string name = path.substr(slash + 1);
  if (name == "." || name == "..") {
    return Error(ErrorKind::kUsage, "guest path \"" + path + "\" must name a file");
  }
  return std::make_pair(slash == 0 ? std::string("/") : path.substr(0, slash), name);
}

Result<vk::UniqueFd> OpenInRoot(int root, std::string_view path, int flags, mode_t mode) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & O_CREAT) ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  std::string relative(path);
  while (!relative.empty() && relative.front() == '/') relative.erase(0, 1);
  if (relative.empty()) relative = ".";
  long fd = ::syscall(SYS_openat2, root, relative.c_str(), &how, sizeof(how));
  if (fd < 0) return Errno("open " + std::string(path), errno);
  return vk::UniqueFd(static_cast<int>(fd));
}

Result<vk::UniqueFd> MakeDirectoriesInRoot(int root, std::string_view path, mode_t mode,
                                           uint32_t uid, uint32_t gid) {
  auto existing = OpenInRoot(root, path, O_PATH | O_DIRECTORY);
  if (existing) return existing;
  if (existing.error().kind() != ErrorKind::kNotFound) return existing.error();
  auto split = SplitGuestPath(path);
  if (!split) return split.error();
  auto parent = MakeDirectoriesInRoot(root, split->first, 0755, 0, 0);
  if (!parent) return parent.error();
  if (::mkdirat(parent->get(), split->second.c_str(), mode) != 0 && errno != EEXIST) {
    return Errno("mkdir " + std::string(path), errno);
  }
  auto made = OpenInRoot(root, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (!made) return made.error();
  ::fchmod(made->get(), mode);  // whatever the umask
  if (::geteuid() == 0) (void)::fchown(made->get(), uid, gid);
  return made;
}

Result<std::string> ReadAll(int fd, std::string_view what, size_t max_bytes) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Errno("stat " + std::string(what), errno);
  if (!S_ISREG(st.st_mode)) {
    return Error(ErrorKind::kUsage, std::string(what) + " is not a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return Error(ErrorKind::kUsage,
                 std::string(what) + " is larger than " + std::to_string(max_bytes >> 20) + " MiB");
  }
  std::string data;
  char buffer[65536];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("read " + std::string(what), errno);
    if (n == 0) break;
    data.append(buffer, static_cast<size_t>(n));
    if (data.size() > max_bytes) return Error(ErrorKind::kUsage, std::string(what) + " grew");
  }
  return data;
}

}  // namespace virtkit::internal
