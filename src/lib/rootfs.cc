// Rootfs: what rootfs hooks write lands in a staging directory that becomes
// the VM's writable layer (RunSpec layer_dir); the shared base is only read.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

#include "lib/in_root.h"
#include "virtkit/virtkit.h"

namespace virtkit {
namespace {

using internal::OpenInRoot;

Result<vk::UniqueFd> OpenRoot(const std::string& staging) {
  int fd = ::open(staging.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error(ErrorKind::kInternal, "staging directory " + staging + ": gone");
  return vk::UniqueFd(fd);
}

Error Errno(std::string what) {
  return Error(ErrorKind::kInternal, std::move(what) + ": " + std::strerror(errno));
}

Result<void> WriteAllFd(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("write " + what);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Ok();
}

// The parent directory of `guest_path` (created as needed) and the name in it;
// an existing entry of that name that is not a directory is removed first,
// so a symlink there is replaced, never written through.
Result<std::pair<vk::UniqueFd, std::string>> PrepareEntry(int root, std::string_view guest_path) {
  auto split = internal::SplitGuestPath(guest_path);
  if (!split) return split.error();
  auto parent = internal::MakeDirectoriesInRoot(root, split->first, 0755, 0, 0);
  if (!parent) return parent.error();
  if (::unlinkat(parent->get(), split->second.c_str(), 0) != 0 && errno != ENOENT) {
    return Errno("replace " + std::string(guest_path));
  }
  return std::make_pair(std::move(*parent), split->second);
}

}  // namespace

Rootfs::Rootfs(std::string staging, std::function<Result<std::string>(std::string_view)> base)
    : staging_(std::move(staging)), read_base_(std::move(base)) {}

Result<void> Rootfs::WriteFile(std::string_view guest_path, std::string_view contents,
                               uint32_t mode, uint32_t uid, uint32_t gid) {
  auto root = OpenRoot(staging_);
  if (!root) return root.error();
  auto entry = PrepareEntry(root->get(), guest_path);
  if (!entry) return entry.error().Context("write " + std::string(guest_path));
  auto& [parent, name] = *entry;
  int fd = ::openat(parent.get(), name.c_str(),
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("write " + std::string(guest_path));
  vk::UniqueFd file(fd);
  if (auto written = WriteAllFd(fd, contents, std::string(guest_path)); !written) return written;
  ::fchmod(fd, mode & 07777);
  if (::geteuid() == 0) (void)::fchown(fd, uid, gid);
  RecordOwner(fd, uid, gid);
  return Ok();
}

// Keyed by where the entry really is in the layer (the kernel's name for the
// fd), so a path written through a symlinked directory names its target.
void Rootfs::RecordOwner(int fd, uint32_t uid, uint32_t gid) {
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  char real[PATH_MAX];
  ssize_t n = ::readlink(link, real, sizeof real - 1);
  if (n <= 0) return;
  std::string path(real, static_cast<size_t>(n));
  char staging_real[PATH_MAX];
  if (::realpath(staging_.c_str(), staging_real) == nullptr) return;
  const std::string staging = staging_real;
  if (path.size() <= staging.size() || path.compare(0, staging.size(), staging) != 0 ||
      path[staging.size()] != '/') {
    return;  // the staging root itself (its owner is the VM root's)
  }
  path.erase(0, staging.size());
  if (uid == 0 && gid == 0) {
    owners_.erase(path);
  } else {
    owners_[path] = Owner{uid, gid};
  }
}

Result<void> Rootfs::CopyFile(const std::string& host_path, std::string_view guest_path) {
  int fd = ::open(host_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Error(errno == ENOENT ? ErrorKind::kNotFound : ErrorKind::kInternal,
                 "copy " + host_path + ": " + std::strerror(errno));
  }
  vk::UniqueFd source(fd);
  struct stat st {};
  ::fstat(fd, &st);
  // Binaries are the point of CopyFile: allow more than ReadFile's bound.
  auto data = internal::ReadAll(fd, host_path, 1ull << 32);
  if (!data) return data.error().Context("copy " + host_path);
  return WriteFile(guest_path, *data, st.st_mode & 07777);
}

Result<void> Rootfs::MakeDirectory(std::string_view guest_path, uint32_t mode, uint32_t uid,
                                   uint32_t gid) {
  auto root = OpenRoot(staging_);
  if (!root) return root.error();
  auto made = internal::MakeDirectoriesInRoot(root->get(), guest_path, mode, uid, gid);
  if (!made) return made.error().Context("mkdir " + std::string(guest_path));
  RecordOwner(made->get(), uid, gid);
  return Ok();
}

Result<void> Rootfs::Symlink(std::string_view target, std::string_view guest_path) {
  auto root = OpenRoot(staging_);
  if (!root) return root.error();
  auto entry = PrepareEntry(root->get(), guest_path);
  if (!entry) return entry.error().Context("symlink " + std::string(guest_path));
  if (::symlinkat(std::string(target).c_str(), entry->first.get(), entry->second.c_str()) != 0) {
    return Errno("symlink " + std::string(guest_path));
  }
  return Ok();
}

Result<void> Rootfs::AddAuthorizedKey(std::string_view home, std::string_view key, uint32_t uid,
                                      uint32_t gid) {
  if (key.empty() || key.find('\n') != std::string_view::npos) {
    return Error(ErrorKind::kUsage, "authorized key: one line, not empty");
  }
  std::string dir = std::string(home) + "/.ssh";
  if (auto made = MakeDirectory(dir, 0700, uid, gid); !made) return made;
  std::string path = dir + "/authorized_keys";
  // Keys already in the layer or the base are kept.
  std::string keys;
  if (auto existing = ReadFile(path)) {
    keys = std::move(*existing);
  } else if (existing.error().kind() != ErrorKind::kNotFound) {
    return existing.error();
  }
  if (!keys.empty() && keys.back() != '\n') keys += '\n';
  keys += std::string(key) + "\n";
  return WriteFile(path, keys, 0600, uid, gid);
}

Result<std::string> Rootfs::ReadFile(std::string_view guest_path) const {
  auto root = OpenRoot(staging_);
  if (!root) return root.error();
  // Symlinks resolve inside the layer; one that leads out of it to a file
  // only the base has is not followed there (the base is read by its path).
  auto staged = OpenInRoot(root->get(), guest_path, O_RDONLY);
  if (staged) return internal::ReadAll(staged->get(), guest_path, internal::kMaxReadBytes);
  if (staged.error().kind() != ErrorKind::kNotFound) return staged.error();
  if (!read_base_) {
    return Error(ErrorKind::kNotFound, std::string(guest_path) + ": no such file in the rootfs");
  }
  return read_base_(guest_path);
}

}  // namespace virtkit
