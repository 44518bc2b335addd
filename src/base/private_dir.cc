#include "base/private_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "base/file_io.h"

namespace vk {
namespace {

std::string Environment(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

// mkdir applies the umask; chmod afterwards makes the mode exact.
Result<void> MakeDirectory0700(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0) return Error::FromErrno("create " + path);
  if (::chmod(path.c_str(), 0700) != 0) return Error::FromErrno("chmod 0700 " + path);
  return Ok();
}

}  // namespace

Result<std::string> DataDirectory() {
  std::string home = Environment("VIRTKIT_HOME");
  if (!home.empty()) return home;
  std::string user_home = Environment("HOME");
  if (user_home.empty()) {
    return Error(
        "neither VIRTKIT_HOME nor HOME is set: set one to say where virtkit keeps its data");
  }
  return user_home + "/.local/share/virtkit";
}

Result<std::string> RuntimeDirectory() {
  if (Environment("XDG_RUNTIME_DIR").empty()) return DataDirectory();
  return RuntimeDirectoryFor("");
}

std::string RuntimeDirectoryFor(const std::string& data_dir) {
  std::string runtime = Environment("XDG_RUNTIME_DIR");
  return runtime.empty() ? data_dir : runtime + "/virtkit";
}

Result<void> CheckPrivateDirectory(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Error::FromErrno("stat " + path);
  if (!S_ISDIR(st.st_mode)) return Error(path + " is not a directory");
  if (st.st_uid != ::getuid()) {
    return Error("refusing to use " + path + ": it belongs to uid " + std::to_string(st.st_uid) +
                 ", not to you (uid " + std::to_string(::getuid()) +
                 "); remove it or set VIRTKIT_HOME/XDG_RUNTIME_DIR to a directory of yours");
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return Error("refusing to use " + path + ": others may write to it; run `chmod go-w " + path +
                 "` (or chmod 700)");
  }
  return Ok();
}

Result<void> CreatePrivateDirectory(const std::string& path) { return MakeDirectory0700(path); }

Result<void> EnsurePrivateDirectory(const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return Error("state directory '" + path + "' is not an absolute path");
  }
  for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    std::string prefix = path.substr(0, slash);
    struct stat st {};
    if (!prefix.empty() && ::stat(prefix.c_str(), &st) != 0) {
      if (errno != ENOENT) return Error::FromErrno("stat " + prefix);
      auto made = MakeDirectory0700(prefix);
      if (!made.ok() && made.error().errno_value() != EEXIST) return made;
    }
    if (slash == std::string::npos) break;
  }
  return CheckPrivateDirectory(path);
}

Result<UniqueFd> OpenPrivateFile(const std::string& path, int flags) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | flags, 0600));
  if (!fd) return Error::FromErrno("open " + path);
  if (::fchmod(fd.get(), 0600) != 0) return Error::FromErrno("chmod 0600 " + path);
  return fd;
}

Result<void> WritePrivateFileAtomically(const std::string& path, std::span<const uint8_t> bytes) {
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  UniqueFd out = VK_TRY(OpenPrivateFile(temporary, O_TRUNC));
  auto written = WriteAllAt(out.get(), bytes, 0);
  if (!written.ok() || ::rename(temporary.c_str(), path.c_str()) != 0) {
    ::unlink(temporary.c_str());
    return written.ok() ? Error::FromErrno("rename " + temporary) : std::move(written).error();
  }
  return Ok();
}

Result<void> WritePrivateFile(const std::string& path, const std::string& contents) {
  UniqueFd fd = VK_TRY(OpenPrivateFile(path, O_TRUNC));
  for (size_t done = 0; done < contents.size();) {
    ssize_t n = ::write(fd.get(), contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error::FromErrno("write " + path);
    done += static_cast<size_t>(n);
  }
  return Ok();
}

}  // namespace vk
