// `vk wait NAME`: block until a VM ends; print and return its exit code (a VM
// ended by `vk checkpoint` says so on stderr and returns 0).
#include <chrono>
#include <cstdio>
#include <thread>

#include "cli/command.h"
#include "runtime/named_vm.h"

namespace vk::cli {
namespace {

int Run(const std::string& name) {
  auto vm = NamedVm::Find(name);
  if (!vm.ok()) return Fail("wait", vm.error());
  auto gone = vm->WaitUntilGone();
  const VmRecord* ended = gone.ok() ? &vm->record() : nullptr;
  if (ended && ended->checkpointed) {
    // Not an exit: the guest is saved, not gone. Nothing on stdout, where
    // scripts expect the command's exit code.
    std::fprintf(stderr, "vk wait: %s was checkpointed; `vk restore %s` resumes it\n", name.c_str(),
                 name.c_str());
    return 0;
  }
  if (!ended || !ended->exit_code) {
    std::fprintf(stderr, "vk wait: %s ended without recording an exit code\n", name.c_str());
    return kExitGuestNoStatus;
  }
  std::printf("%d\n", *ended->exit_code);
  return *ended->exit_code;
}

Runner Setup(CLI::App& app) {
  auto name = std::make_shared<std::string>();
  app.add_option("name", *name, "The VM")->required();
  return [name] { return Run(*name); };
}

Command kWait("wait", "Wait for a VM to end and print its exit code", &Setup);

}  // namespace
}  // namespace vk::cli
