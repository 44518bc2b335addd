// An exec server that runs nothing: it answers every request on a unix
// socket with "exited 0" at once. Against it, `vk exec --socket SOCK -- true`
// measures only the host side of an exec round trip (vk's process start,
// connect, hello, request, exit status, process end), with no fork+exec of
// the command in the agent, which is guest work in a real VM.
//   vk_exec_null_agent SOCK
#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>

#include "base/fd_io.h"
#include "base/unix_socket.h"
#include "proto/frame.h"
#include "proto/frame_channel.h"
#include "proto/messages.h"

namespace {

using namespace vk;

// Reads until the exec request, then replies with exit 0.
Result<void> Serve(int fd) {
  VK_TRY(WriteAll(fd, proto::EncodeHello(proto::OurHello(proto::Role::kAgent))));
  proto::FrameDecoder decoder;
  uint8_t buffer[4096];
  while (true) {
    auto frame = VK_TRY(decoder.Next());
    if (frame && frame->type == proto::FrameType::kExecRequest) break;
    if (frame) continue;  // the host's hello
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) return Error("connection closed before the exec request");
    decoder.Feed({buffer, static_cast<size_t>(n)});
  }
  return WriteAll(fd, proto::EncodeExit(proto::ExitStatus::Exited(0)));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: vk_exec_null_agent SOCK\n");
    return 2;
  }
  auto listener = vk::ListenUnix(argv[1]);
  if (!listener.ok()) {
    std::fprintf(stderr, "vk_exec_null_agent: %s\n", listener.error().message().c_str());
    return 1;
  }
  while (true) {
    vk::UniqueFd connection(::accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!connection) continue;
    if (auto served = Serve(connection.get()); !served.ok()) {
      std::fprintf(stderr, "vk_exec_null_agent: %s\n", served.error().message().c_str());
    }
  }
}
