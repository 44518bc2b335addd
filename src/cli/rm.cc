// `vk rm [-f] NAME...`: remove stopped VMs' state (-f stops running ones first).
#include <algorithm>
#include <memory>
#include <vector>

#include "cli/command.h"
#include "runtime/named_vm.h"

namespace vk::cli {
namespace {

Result<void> Remove(const std::string& name, bool force) {
  auto vm = NamedVm::Find(name);
  if (vm.ok()) return vm->Remove(force ? RemoveMode::kKillRunning : RemoveMode::kRefuseRunning);
  if (vm.error().kind() != ErrorKind::kNotFound) return std::move(vm).error();
  // A directory without a readable record (a VMM that died early): removed
  // all the same, and a name with nothing at all is an error.
  VmDir dir = VK_TRY(VmDir::Named(name));
  if (VK_TRY(dir.Remove()) == RemoveOutcome::kAbsent) {
    return Error(ErrorKind::kNotFound, "no VM named " + name);
  }
  return Ok();
}

Runner Setup(CLI::App& app) {
  auto names = std::make_shared<std::vector<std::string>>();
  auto force = std::make_shared<bool>(false);
  app.add_option("names", *names, "VMs to remove")->required();
  app.add_flag("-f,--force", *force, "Kill running VMs first");
  return [names, force] {
    int status = 0;
    for (const std::string& name : *names) {
      auto removed = Remove(name, *force);
      if (!removed.ok()) status = std::max(status, Fail("rm", removed.error()));
    }
    return status;
  };
}

Command kRm("rm", "Remove VMs and their state", &Setup);

}  // namespace
}  // namespace vk::cli
