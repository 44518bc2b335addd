// `vk checkpoint NAME [--leave-running]`: save a running VM (memory, devices,
// its writable disk) into its state directory, then end it (or let it run
// on); `vk restore NAME` brings it back. docs/snapshots.md, "Checkpoints".
#include <chrono>
#include <cstdio>
#include <thread>

#include "cli/command.h"
#include "runtime/named_vm.h"
#include "runtime/vmm_control.h"

namespace vk::cli {
namespace {

// Writing the guest's memory and disk copy takes seconds; allow for a slow
// disk and a large guest.
constexpr auto kCheckpointTimeout = std::chrono::seconds(600);
// After the reply the VMM only tears the machine down.
constexpr auto kEndTimeout = std::chrono::seconds(60);

int Refuse(const std::string& message) {
  std::fprintf(stderr, "vk checkpoint: %s\n", message.c_str());
  return kExitUsage;
}

int Run(const std::string& name, bool leave_running) {
  auto vm = NamedVm::Find(name);
  if (!vm.ok()) return Refuse(vm.error().message());
  switch (vm->State()) {
    case VmState::kRunning: break;
    case VmState::kCheckpointed:
      return Refuse(name + " is checkpointed already: `vk restore " + name + "` resumes it");
    default: return Refuse(name + " is not running: only a running VM can be checkpointed");
  }
  VmmRequest request;
  request.leave_running = leave_running;
  auto reply = SendVmmRequest(vm->VmmSocket(), request, kCheckpointTimeout);
  if (!reply.ok()) {
    if (reply.error().errno_value() == ENOENT || reply.error().errno_value() == ECONNREFUSED) {
      return Refuse(name + "'s VMM takes no checkpoint requests (started by an older vk?)");
    }
    return Refuse(reply.error().message());
  }
  if (!leave_running) {  // back only once the VM is gone: `vk restore` may follow at once
    auto deadline = std::chrono::steady_clock::now() + kEndTimeout;
    while (VmmAlive(vm->record()) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (VmmAlive(vm->record()))
      return Refuse("the checkpoint is written but " + name + " still runs");
  }
  std::printf("%s\n", reply->c_str());
  return 0;
}

Runner Setup(CLI::App& app) {
  auto name = std::make_shared<std::string>();
  auto leave_running = std::make_shared<bool>(false);
  app.add_option("name", *name, "The VM")->required();
  app.add_flag("--leave-running", *leave_running, "Let the VM run on after the checkpoint");
  return [name, leave_running] { return Run(*name, *leave_running); };
}

Command kCheckpoint("checkpoint",
                    "Save a running VM (memory, devices, disk) and stop it; vk restore resumes it",
                    &Setup);

}  // namespace
}  // namespace vk::cli
