#include "agent/guest_mounts.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <charconv>

#include "agent/system_setup.h"
#include "base/unique_fd.h"
#include "proto/str_format.h"

namespace vk::agent {

using proto::StrFormat;
namespace {

constexpr unsigned long kSafe = MS_NOSUID | MS_NODEV;

// tmpfs's own options (Documentation/filesystems/tmpfs.rst): size in
// bytes, mode in octal.
std::string TmpfsData(const TmpfsMount& m) {
  std::string data;
  if (m.size_bytes) data = StrFormat("size={}", *m.size_bytes);
  if (m.mode) {
    char octal[12];
    auto [end, ec] = std::to_chars(octal, octal + sizeof(octal), *m.mode, 8);
    data += (data.empty() ? "mode=" : ",mode=") + std::string(octal, end);
  }
  return data;
}

// An empty file or directory at `target` for a bind of `source` to land
// on (mount(2) needs one of the same kind); an existing one is kept.
Result<void> MakeBindTarget(const std::string& source, const std::string& target) {
  struct stat info {};
  if (stat(source.c_str(), &info) != 0)
    return Error::FromErrno(StrFormat("bind source {}", source));
  if (S_ISDIR(info.st_mode)) return MakeDirectories(target);
  const size_t slash = target.rfind('/');
  if (slash > 0) VK_TRY(MakeDirectories(target.substr(0, slash)));
  // No O_TRUNC: an existing file stays as it is, under the mount.
  UniqueFd fd(open(target.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd && errno != EISDIR) return Error::FromErrno(StrFormat("create bind target {}", target));
  return Ok();
}

}  // namespace

Result<void> MountShares(const std::vector<FsMount>& mounts) {
  for (const FsMount& m : mounts) {
    VK_TRY(MakeDirectories(m.path));
    unsigned long flags = MS_NODEV | (m.read_only ? MS_RDONLY : 0);
    if (mount(m.tag.c_str(), m.path.c_str(), "virtiofs", flags, nullptr) < 0)
      return Error::FromErrno(StrFormat("mount shared directory {} on {}", m.tag, m.path));
  }
  return Ok();
}

Result<void> MountTmpfs(const std::vector<TmpfsMount>& mounts) {
  for (const TmpfsMount& m : mounts) {
    VK_TRY(MakeDirectories(m.path));
    const std::string data = TmpfsData(m);
    if (mount("tmpfs", m.path.c_str(), "tmpfs", kSafe, data.empty() ? nullptr : data.c_str()) < 0)
      return Error::FromErrno(StrFormat("mount tmpfs on {} ({})", m.path, data));
  }
  return Ok();
}

Result<void> MountBinds(const std::vector<BindMount>& mounts) {
  for (const BindMount& m : mounts) {
    VK_TRY(MakeBindTarget(m.source, m.target));
    if (mount(m.source.c_str(), m.target.c_str(), nullptr, MS_BIND, nullptr) < 0)
      return Error::FromErrno(StrFormat("bind {} on {}", m.source, m.target));
    // A bind takes its flags only from a remount (mount(2), "Creating a bind mount").
    const unsigned long flags = MS_REMOUNT | MS_BIND | kSafe | (m.read_only ? MS_RDONLY : 0);
    if (mount(nullptr, m.target.c_str(), nullptr, flags, nullptr) < 0)
      return Error::FromErrno(StrFormat("make the bind on {} nosuid", m.target));
  }
  return Ok();
}

Result<void> MountGuestMounts(const std::vector<TmpfsMount>& tmpfs,
                              const std::vector<FsMount>& shares,
                              const std::vector<BindMount>& binds) {
  VK_TRY(MountTmpfs(tmpfs));
  VK_TRY(MountShares(shares));
  return MountBinds(binds);
}

}  // namespace vk::agent
