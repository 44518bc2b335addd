// `vk ps`: the named VMs on this host and their state.
#include <cstdio>
#include <ctime>

#include "base/strings.h"
#include "cli/command.h"
#include "runtime/named_vm.h"

namespace vk::cli {
namespace {

std::string Uptime(int64_t since) {
  int64_t seconds = static_cast<int64_t>(::time(nullptr)) - since;
  if (seconds < 120) return std::to_string(seconds) + "s";
  if (seconds < 7200) return std::to_string(seconds / 60) + "m";
  return std::to_string(seconds / 3600) + "h";
}

std::string StateText(const VmRecord& record) {
  switch (StateOf(record)) {
    case VmState::kRunning: return "running";
    case VmState::kExited: return "exited (" + std::to_string(*record.exit_code) + ")";
    case VmState::kCheckpointed: return "checkpointed";
    case VmState::kDead: return "dead (VMM gone; vk rm cleans up)";
  }
  return "?";
}

int Run() {
  std::printf("%-20s %-36s %4s %7s %-32s %s\n", "NAME", "DISK", "CPUS", "MEM", "STATE", "UPTIME");
  for (const NamedVm& named : NamedVm::List()) {
    const VmRecord& vm = named.record();
    bool running = StateOf(vm) == VmState::kRunning;
    std::printf("%-20s %-36s %4u %6luM %-32s %s\n", vm.name.c_str(), vm.disk.c_str(), vm.cpus,
                static_cast<unsigned long>(vm.memory_bytes >> 20), StateText(vm).c_str(),
                running ? Uptime(vm.created).c_str() : "-");
  }
  return 0;
}

Runner Setup(CLI::App&) {
  return [] { return Run(); };
}

Command kPs("ps", "List named VMs", &Setup);

}  // namespace
}  // namespace vk::cli
