// `vk restore NAME`: resume a VM from its checkpoint (`vk checkpoint`), in the
// background like `-d`; returns once its agent answers. docs/snapshots.md.
#include <cstdio>

#include "cli/command.h"
#include "runtime/launch.h"

namespace vk::cli {
namespace {

int Run(const std::string& name, int boot_timeout_seconds) {
  return ExitCodeOf("restore", Restore(name, std::chrono::seconds(boot_timeout_seconds)));
}

Runner Setup(CLI::App& app) {
  auto name = std::make_shared<std::string>();
  auto boot_timeout = std::make_shared<int>(180);
  app.add_option("name", *name, "The VM")->required();
  app.add_option("--boot-timeout", *boot_timeout, "Seconds to wait for the guest agent");
  return [name, boot_timeout] { return Run(*name, *boot_timeout); };
}

Command kRestore("restore", "Resume a checkpointed VM in the background", &Setup);

}  // namespace
}  // namespace vk::cli
