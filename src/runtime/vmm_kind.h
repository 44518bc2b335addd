// Which VMM runs a VM: virtkit's own (the default) or QEMU (`--vmm qemu`,
// VIRTKIT_VMM=qemu; docs/backends.md). The choice is the runtime's: `vk
// run`, `vk launch` and the library all reach it through LaunchOptions.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace vk {

enum class VmmKind { kVirtkit, kQemu };

// "virtkit" or "qemu"; anything else is kUsage naming both.
Result<VmmKind> ParseVmmKind(std::string_view name);
std::string_view VmmKindName(VmmKind kind);

// The flag's value when given, else VIRTKIT_VMM, else virtkit's VMM.
Result<VmmKind> ChooseVmm(std::string_view flag);

}  // namespace vk
