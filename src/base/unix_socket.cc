#include "base/unix_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace vk {
namespace {

Result<sockaddr_un> AddressOf(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    return Error("socket path '" + path + "' is longer than " +
                 std::to_string(sizeof(address.sun_path) - 1) +
                 " bytes: use a shorter XDG_RUNTIME_DIR or VIRTKIT_HOME");
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return address;
}

// umask is process-wide, so the 0600 mode is set on the file after bind and
// before listen: no peer can connect before the mode is final.
}  // namespace

Result<UniqueFd> ConnectUnix(const std::string& path, SocketBlocking blocking) {
  sockaddr_un address = VK_TRY(AddressOf(path));
  int flags = SOCK_STREAM | SOCK_CLOEXEC;
  if (blocking == SocketBlocking::kNonBlocking) flags |= SOCK_NONBLOCK;
  UniqueFd fd(::socket(AF_UNIX, flags, 0));
  if (!fd) return Error::FromErrno("socket");
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    bool pending = blocking == SocketBlocking::kNonBlocking && errno == EINPROGRESS;
    if (!pending) return Error::FromErrno("connect to " + path);
  }
  return fd;
}

Result<UniqueFd> ListenUnix(const std::string& path, int backlog, SocketBlocking blocking) {
  sockaddr_un address = VK_TRY(AddressOf(path));
  int flags = SOCK_STREAM | SOCK_CLOEXEC;
  if (blocking == SocketBlocking::kNonBlocking) flags |= SOCK_NONBLOCK;
  UniqueFd fd(::socket(AF_UNIX, flags, 0));
  if (!fd) return Error::FromErrno("socket");
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return Error::FromErrno("bind " + path);
  }
  if (::chmod(path.c_str(), 0600) != 0) return Error::FromErrno("chmod 0600 " + path);
  if (::listen(fd.get(), backlog) != 0) return Error::FromErrno("listen on " + path);
  return fd;
}

Result<uid_t> PeerUid(int fd) {
  ucred credentials{};
  socklen_t size = sizeof(credentials);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &size) != 0) {
    return Error::FromErrno("SO_PEERCRED");
  }
  return credentials.uid;
}

Result<void> CheckPeerIsOwner(int fd) {
  uid_t peer = VK_TRY(PeerUid(fd));
  if (peer != ::getuid()) {
    return Error("refused a connection from uid " + std::to_string(peer) + ": only uid " +
                 std::to_string(::getuid()) + " may use this VM");
  }
  return Ok();
}

Result<std::string> ReadLineBefore(int fd, std::chrono::steady_clock::time_point deadline,
                                   size_t max_bytes) {
  std::string line;
  while (line.size() < max_bytes) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd pfd{fd, POLLIN, 0};
    if (left.count() <= 0) return Error("no answer in time");
    int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return Error::FromErrno("poll");
    if (ready == 0) return Error("no answer in time");
    char c;
    ssize_t n = ::recv(fd, &c, 1, 0);
    if (n == 0) return Error("the connection closed before a full line");
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno("read");
    }
    line += c;
    if (c == '\n') return line;
  }
  return Error("line longer than " + std::to_string(max_bytes) + " bytes");
}

}  // namespace vk
