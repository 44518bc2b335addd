// `vk connect NAME PORT`: stdin/stdout to a guest vsock port, e.g. as an SSH
// ProxyCommand: ssh -o ProxyCommand='vk connect dev 22' root@dev
#include <cstdio>

#include "base/fd_io.h"
#include "cli/command.h"
#include "cli/guest_port.h"

namespace vk::cli {
namespace {

int Run(const std::string& name, uint32_t port) {
  auto fd = ConnectGuestPort(name, port);
  if (!fd.ok()) {
    std::fprintf(stderr, "vk connect: %s\n", fd.error().message().c_str());
    return kExitUsage;
  }
  RelayBytes(STDIN_FILENO, STDOUT_FILENO, fd->get());
  return 0;
}

Runner Setup(CLI::App& app) {
  auto name = std::make_shared<std::string>();
  auto port = std::make_shared<uint32_t>(22);
  app.add_option("name", *name, "The VM")->required();
  app.add_option("port", *port, "Guest vsock port")->required();
  return [=] { return Run(*name, *port); };
}

Command kConnect("connect", "Connect stdin/stdout to a guest vsock port", &Setup);

}  // namespace
}  // namespace vk::cli
