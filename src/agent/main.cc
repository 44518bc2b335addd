// vk-agent entry point. As PID 1 (the initramfs's /init) or with `init`, it
// boots the guest and serves the host's command; see agent/init.h.
#include <unistd.h>

#include <cstring>

#include "agent/init.h"

int main(int argc, char** argv) {
  if (getpid() == 1 || (argc > 1 && std::strcmp(argv[1], "init") == 0)) vk::agent::RunInit();
  static const char kUsage[] =
      "usage: vk-agent init\n"
      "vk-agent is the guest side of virtkit: it runs as /init inside a vk microVM.\n";
  (void)!write(STDERR_FILENO, kUsage, sizeof(kUsage) - 1);
  return 2;
}
