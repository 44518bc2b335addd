// `vk stop NAME [--time SECONDS]`: ask the guest to power off cleanly, then
// SIGKILL the VMM if it is still running after the grace period. A reused pid
// is never signalled: the VMM is identified by pid and start time.
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "runtime/named_vm.h"

namespace vk::cli {
namespace {

int Run(const std::string& name, int grace_seconds) {
  auto vm = NamedVm::Find(name);
  if (!vm.ok()) return Fail("stop", vm.error());
  if (vm->Stop(std::chrono::seconds(grace_seconds)) == StopOutcome::kKilled) {
    std::fprintf(stderr, "vk stop: %s did not power off within %d s; killed it\n", name.c_str(),
                 grace_seconds);
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
