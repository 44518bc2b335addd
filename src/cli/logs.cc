// `vk logs [-f] [--console] NAME`: a VM's output (vm.log: the VMM and a
// detached command's output) or its kernel console (console.log).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "cli/command.h"
#include "runtime/named_vm.h"

namespace vk::cli {
namespace {

int Run(const std::string& name, bool follow, bool console) {
  auto vm = NamedVm::Find(name);
  if (!vm.ok()) return Fail("logs", vm.error());
  std::ifstream file(vm->LogPath(console ? LogKind::kConsole : LogKind::kVmm), std::ios::binary);
  char buffer[65536];
  while (true) {
    file.read(buffer, sizeof(buffer));
    if (file.gcount() > 0) {
      ssize_t ignored = ::write(STDOUT_FILENO, buffer, static_cast<size_t>(file.gcount()));
      (void)ignored;
      continue;
    }
    if (!follow || !VmmAlive(vm->record())) break;
    file.clear();  // at EOF: wait for more while the VM runs
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return 0;
}

Runner Setup(CLI::App& app) {
  auto name = std::make_shared<std::string>();
  auto follow = std::make_shared<bool>(false);
  auto console = std::make_shared<bool>(false);
  app.add_option("name", *name, "The VM")->required();
  app.add_flag("-f,--follow", *follow, "Keep printing while the VM runs");
  app.add_flag("--console", *console, "Show the kernel console instead");
  return [=] { return Run(*name, *follow, *console); };
}

Command kLogs("logs", "Show a VM's output", &Setup);

}  // namespace
}  // namespace vk::cli
