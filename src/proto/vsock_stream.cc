#include "proto/vsock_stream.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "base/fd_io.h"
#include "base/unix_socket.h"

namespace vk::proto {
namespace {

// Abuse bound: the handshake reply is "OK <u32>\n".
constexpr size_t kMaxReply = 32;

}  // namespace

Result<UniqueFd> ConnectVsockPort(const std::string& path, uint32_t port) {
  UniqueFd fd = VK_TRY(ConnectUnix(path));
  VK_TRY(WriteAll(fd.get(), "CONNECT " + std::to_string(port) + "\n"));
  std::string reply;
  char c;
  while (reply.size() < kMaxReply && ::recv(fd.get(), &c, 1, 0) == 1 && c != '\n') reply += c;
  if (reply.rfind("OK ", 0) != 0) {
    return Error("guest port " + std::to_string(port) +
                 " refused the connection (is a server listening there?)");
  }
  return fd;
}

}  // namespace vk::proto
