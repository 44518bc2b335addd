// The VM start behind krun_start_enter: builds the VM from a validated
// context and runs it in the calling process.
#pragma once

#include "capi/krun_config.h"

namespace vk::capi {

// Receives a context that passed ValidateConfig (config_validation.h). On
// success it never returns: the process _exit()s with the workload's exit
// status (docs/libkrun.md, "Exit status"). On an error it returns a negative
// errno with nothing running.
int StartEnter(KrunConfig config);

}  // namespace vk::capi
