// Test helpers around file descriptors: read back what was written to one,
// and play another local user connecting to a unix socket.
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "base/unix_socket.h"

namespace vk::testing {

// Everything in the file behind `fd` (a memfd or regular file).
inline std::string FdContents(int fd) {
  std::string text(static_cast<size_t>(::lseek(fd, 0, SEEK_END)), '\0');
  ssize_t n = ::pread(fd, text.data(), text.size(), 0);
  text.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return text;
}

// Lowers this process's RLIMIT_NOFILE soft limit (call it in a forked child).
inline bool SetFdLimit(rlim_t soft) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  limit.rlim_cur = soft;
  return ::setrlimit(RLIMIT_NOFILE, &limit) == 0;
}

// Forks a child that connects to `path` as uid/gid 65534 (needs root; the
// socket and its directory must let that uid in) and exits 0 once the server
// closes the connection (EOF), 2-4 otherwise. Returns the child's pid.
inline pid_t ConnectAsNobody(const std::string& path) {
  pid_t child = ::fork();
  if (child != 0) return child;
  if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
  auto client = ConnectUnix(path);
  if (!client.ok()) ::_exit(3);
  char byte;
  ::_exit(::read(client->get(), &byte, 1) == 0 ? 0 : 4);
}

// Whether a wait status says "exited with 0".
inline bool ExitedZero(int status) { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

// Waits for `child`; whether it exited with 0.
inline bool WaitExitedZero(pid_t child) {
  int status = 0;
  return ::waitpid(child, &status, 0) == child && ExitedZero(status);
}

}  // namespace vk::testing
