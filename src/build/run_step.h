// A RUN step in a microVM of its own: the stage's filesystem so far is the
// VM's read-only base (an ext4 made from its layers), the VM's writes land
// in the overlay upper directory of a scratch disk that is kept for
// ReadUpperLayer. The VM is launched through the runtime (runtime/launch.h)
// in a child process: the VMM sandboxes the process it runs in, and the
// builder must go on writing layers afterwards.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "runtime/launch.h"

namespace vk::build {

struct RunStepSpec {
  std::string root_disk;     // ext4 of the stage's filesystem
  std::string scratch_disk;  // made here (must not exist), left for the caller to read
  std::string image_store;   // the store's root (scratch templates live beside it)
  std::vector<std::string> argv;
  std::vector<std::string> env;  // K=V
  std::string user;
  std::string workdir;
  bool network = false;           // the VM's own LAN (egress through host sockets)
  std::vector<SharedDir> shares;  // RUN --mount=type=bind|cache, the secrets' directory
  std::vector<GuestTmpfs> tmpfs;  // RUN --mount=type=tmpfs
  std::vector<GuestBind> binds;   // RUN --mount=type=secret: each file onto its target
  uint64_t memory_bytes = 512ull << 20;
  bool cold = false;  // boot the kernel instead of the warm template
};

struct RunStepOutcome {
  int exit_code = 0;  // the command's (128 + N for a signal)
};

// How a step shares the builder with stages building in parallel
// (builder.cc): all host work runs under one lock, which the step releases
// only while it waits for its VM. So when the VM's process is forked, no
// other thread is inside library code holding a lock the child would need.
struct StepWaiting {
  std::mutex* host_work = nullptr;  // held by the caller; null: nothing to release
  // Once set, the VM is asked to stop (SIGTERM): another stage failed.
  const std::atomic<bool>* cancel = nullptr;
};

// Boots, runs argv, waits. The command's stdout and stderr (and vk's own
// messages about the VM) reach `on_output` as they come (with the host
// lock held). A failure of the VM itself (no KVM, a panic) is an error; a
// command that exits non-zero is an outcome.
Result<RunStepOutcome> RunInMicroVm(const RunStepSpec& spec,
                                    const std::function<void(std::string_view)>& on_output,
                                    StepWaiting waiting = {});

}  // namespace vk::build
