// vk-agent entry point. As PID 1 (the initramfs's /init) or with `init`, it
// boots the guest and serves the host's command; see agent/init.h.
// `vk-agent serve --unix PATH` runs the exec server as an ordinary program on
// a unix socket (host-side tests and bench/exec.sh). `vk-agent connect
// HOST-SOCK PORT` joins stdin/stdout to a guest vsock port through a VMM's
// vsock socket: an SSH ProxyCommand for hosts or containers without vk.
// Named `virtctl` (a fleet VM's symlink) or as `vk-agent virtctl ARGS...`, it
// is the fleet controller's client; see agent/virtctl.h.
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "agent/exec_listener.h"
#include "agent/init.h"
#include "agent/virtctl.h"
#include "base/fd_io.h"
#include "base/strings.h"
#include "proto/vsock_stream.h"

namespace {

int Serve(int argc, char** argv) {
  if (argc != 4 || std::strcmp(argv[2], "--unix") != 0) return 2;
  auto listener = vk::agent::ListenUnix(argv[3]);
  if (!listener.ok()) {
    std::fprintf(stderr, "vk-agent: %s\n", listener.error().message().c_str());
    return 1;
  }
  vk::agent::ServeExecsForever(std::move(*listener));
}

int Connect(int argc, char** argv) {
  auto port = argc == 4 ? vk::ParseUint(argv[3]) : std::nullopt;
  if (!port || *port > UINT32_MAX) return 2;
  auto stream = vk::proto::ConnectVsockPort(argv[2], static_cast<uint32_t>(*port));
  if (!stream.ok()) {
    std::fprintf(stderr, "vk-agent connect: %s\n", stream.error().message().c_str());
    return 1;
  }
  vk::RelayBytes(STDIN_FILENO, STDOUT_FILENO, stream->get());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (getpid() == 1) vk::agent::RunInit();
  // Before the `init` word: `virtctl init` is a virtctl usage error, not a boot.
  if (argc > 0 && vk::agent::InvokedAsVirtctl(argv[0])) return vk::agent::RunVirtctl(argc, argv);
  if (argc > 1 && std::strcmp(argv[1], "virtctl") == 0) {
    return vk::agent::RunVirtctl(argc - 1, argv + 1);
  }
  if (argc > 1 && std::strcmp(argv[1], "init") == 0) vk::agent::RunInit();
  if (argc > 1 && std::strcmp(argv[1], "serve") == 0) {
    int status = Serve(argc, argv);
    if (status != 2) return status;
  }
  if (argc > 1 && std::strcmp(argv[1], "connect") == 0) {
    int status = Connect(argc, argv);
    if (status != 2) return status;
  }
  static const char kUsage[] =
      "usage: vk-agent init | vk-agent serve --unix PATH | vk-agent connect HOST-SOCK PORT\n"
      "       vk-agent virtctl ARGS... (or run it as `virtctl`: virtctl --help)\n"
      "vk-agent is the guest side of virtkit: it runs as /init inside a vk microVM.\n";
  (void)!write(STDERR_FILENO, kUsage, sizeof(kUsage) - 1);
  return 2;
}
