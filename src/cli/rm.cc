// `vk rm [-f] NAME...`: remove stopped VMs' state (-f stops running ones first).
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "cli/command.h"
#include "vmm/vm_state.h"

namespace vk::cli {
namespace {

int Remove(const std::string& name, bool force) {
  auto dir = VmDirectory(name);  // checks the name before any path is built
  if (!dir.ok()) {
    std::fprintf(stderr, "vk rm: %s\n", dir.error().message().c_str());
    return kExitUsage;
  }
  auto record = ReadVmRecord(*dir);
  if (record.ok() && VmmAlive(*record)) {
    if (!force) {
      std::fprintf(stderr, "vk rm: %s is running: stop it first (vk stop %s) or use -f\n",
                   name.c_str(), name.c_str());
      return kExitUsage;
    }
    ::kill(record->pid, SIGKILL);
    for (int i = 0; i < 50 && VmmAlive(*record); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  auto removed = RemoveVmDirectory(name);
  if (!removed.ok()) {
    std::fprintf(stderr, "vk rm: %s\n", removed.error().message().c_str());
    return kExitUsage;
  }
  if (*removed == RemoveOutcome::kAbsent) {
    std::fprintf(stderr, "vk rm: no VM named %s\n", name.c_str());
    return kExitUsage;
  }
  return 0;
}

Runner Setup(CLI::App& app) {
  auto names = std::make_shared<std::vector<std::string>>();
  auto force = std::make_shared<bool>(false);
  app.add_option("names", *names, "VMs to remove")->required();
  app.add_flag("-f,--force", *force, "Kill running VMs first");
  return [names, force] {
    int status = 0;
    for (const std::string& name : *names) status = std::max(status, Remove(name, *force));
    return status;
  };
}

Command kRm("rm", "Remove VMs and their state", &Setup);

}  // namespace
}  // namespace vk::cli
