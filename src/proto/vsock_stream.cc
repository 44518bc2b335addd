#include "proto/vsock_stream.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace vk::proto {
namespace {

// Abuse bound: the handshake reply is "OK <u32>\n".
constexpr size_t kMaxReply = 32;

}  // namespace

Result<void> WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno("write");
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return Ok();
}

Result<UniqueFd> ConnectVsockPort(const std::string& path, uint32_t port) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) return Error("socket path too long: " + path);
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return Error::FromErrno("connect to " + path);
  }
  std::string request = "CONNECT " + std::to_string(port) + "\n";
  VK_TRY(WriteAll(fd.get(), request.data(), request.size()));
  std::string reply;
  char c;
  while (reply.size() < kMaxReply && ::recv(fd.get(), &c, 1, 0) == 1 && c != '\n') reply += c;
  if (reply.rfind("OK ", 0) != 0) {
    return Error("guest port " + std::to_string(port) +
                 " refused the connection (is a server listening there?)");
  }
  return fd;
}

void PumpBytes(int a_in, int a_out, int b) {
  pollfd fds[2] = {{a_in, POLLIN, 0}, {b, POLLIN, 0}};
  bool a_open = true, b_open = true;
  char buffer[65536];
  while (a_open || b_open) {
    fds[0].fd = a_open ? a_in : -1;
    fds[1].fd = b_open ? b : -1;
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (a_open && fds[0].revents) {
      ssize_t n = ::read(a_in, buffer, sizeof(buffer));
      if (n <= 0 || !WriteAll(b, buffer, static_cast<size_t>(n)).ok()) {
        a_open = false;
        ::shutdown(b, SHUT_WR);
      }
    }
    if (b_open && fds[1].revents) {
      ssize_t n = ::read(b, buffer, sizeof(buffer));
      if (n <= 0 || !WriteAll(a_out, buffer, static_cast<size_t>(n)).ok()) {
        b_open = false;
        if (::shutdown(a_out, SHUT_WR) != 0 && a_out != STDOUT_FILENO) ::close(a_out);
      }
    }
  }
}

}  // namespace vk::proto
