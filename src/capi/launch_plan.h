// What krun_start_enter runs: a validated KrunConfig turned into the
// runtime's LaunchOptions (docs/libkrun.md has the rules). Pure, so every
// mapping is unit-tested without a VM.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "capi/krun_config.h"
#include "proto/exec_client.h"
#include "runtime/launch.h"

namespace vk::capi {

// What the calling process contributes besides the context.
struct HostSide {
  bool terminal = false;  // stdin and stdout are terminals: the workload gets one
  std::string term;       // $TERM for that terminal
  uint16_t rows = 24, cols = 80;
};

// The workload's stdio on the host: the calling process's 0, 1, 2, or the
// fds given to krun_add_virtio_console_default.
proto::StdioFds WorkloadStdio(const KrunConfig& config);

// ENOTSUP (with the reason) for settings virtkit's libkrun does not run;
// EINVAL for values the guest could not use.
Result<LaunchOptions> PlanLaunch(const KrunConfig& config, const HostSide& host);

}  // namespace vk::capi
