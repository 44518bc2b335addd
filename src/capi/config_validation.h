// The coherence checks krun_start_enter makes before anything is opened:
// the setters only check their own arguments (libkrun's rule), so a context
// can hold settings that make no VM together.
#pragma once

#include "base/result.h"
#include "capi/krun_config.h"

namespace vk::capi {

// EINVAL with the reason when `config` cannot become a VM: no root file
// system or more than one (krun_set_root, a kRootTag share,
// krun_set_root_disk_remount), two shares with the same tag, or a remount
// device that names no disk.
Result<void> ValidateConfig(const KrunConfig& config);

}  // namespace vk::capi
