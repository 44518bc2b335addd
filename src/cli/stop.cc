// `vk stop NAME [--time SECONDS]`: ask the guest to power off cleanly, then
// SIGKILL the VMM if it is still running after the grace period. A reused pid
// is never signalled: the VMM is identified by pid and start time.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "base/unique_fd.h"
#include "base/unix_socket.h"
#include "cli/command.h"
#include "vmm/vm_state.h"

namespace vk::cli {
namespace {

void RequestPowerOff(const std::string& dir) {
  auto connected = ConnectUnix(dir + "/control.sock");
  if (!connected.ok()) return;
  UniqueFd fd = std::move(*connected);
  ssize_t ignored = ::send(fd.get(), "poweroff\n", 9, MSG_NOSIGNAL);
  (void)ignored;
  char byte;
  ::recv(fd.get(), &byte, 1, 0);  // returns when the guest goes away
}

int Run(const std::string& name, int grace_seconds) {
  auto vm = FindVm(name);
  if (!vm.ok()) {
    std::fprintf(stderr, "vk stop: %s\n", vm.error().message().c_str());
    return kExitUsage;
  }
  const VmRecord& record = vm->record;
  std::string dir = vm->dir;
  if (!VmmAlive(record)) return 0;
  std::thread request([dir] { RequestPowerOff(dir); });
  request.detach();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(grace_seconds);
  while (VmmAlive(record) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (VmmAlive(record)) {
    std::fprintf(stderr, "vk stop: %s did not power off within %d s; killing it\n", name.c_str(),
                 grace_seconds);
    ::kill(record.pid, SIGKILL);
  }
  return 0;
}

Runner Setup(CLI::App& app) {
  auto name = std::make_shared<std::string>();
  auto grace = std::make_shared<int>(10);
  app.add_option("name", *name, "The VM")->required();
  app.add_option("-t,--time", *grace, "Seconds to wait for a clean power-off before SIGKILL");
  return [name, grace] { return Run(*name, *grace); };
}

Command kStop("stop", "Power a VM off (SIGKILL after --time seconds)", &Setup);

}  // namespace
}  // namespace vk::cli
