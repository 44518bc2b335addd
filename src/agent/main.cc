// vk-agent entry point. As PID 1 (the initramfs's /init) or with `init`, it
// boots the guest and serves the host's command; see agent/init.h.
// `vk-agent serve --unix PATH` runs the exec server as an ordinary program on
// a unix socket (host-side tests and bench/exec.sh).
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "agent/exec_listener.h"
#include "agent/init.h"

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

}  // namespace

int main(int argc, char** argv) {
  if (getpid() == 1 || (argc > 1 && std::strcmp(argv[1], "init") == 0)) vk::agent::RunInit();
  if (argc > 1 && std::strcmp(argv[1], "serve") == 0) {
    int status = Serve(argc, argv);
    if (status != 2) return status;
  }
  static const char kUsage[] =
      "usage: vk-agent init | vk-agent serve --unix PATH\n"
      "vk-agent is the guest side of virtkit: it runs as /init inside a vk microVM.\n";
  (void)!write(STDERR_FILENO, kUsage, sizeof(kUsage) - 1);
  return 2;
}
