// How a launch uses warm templates (docs/snapshots.md): whether it does, the
// template's shape and devices for a VM's options, and restoring from it
// (falling back to a boot when the template cannot be used).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/result.h"
#include "runtime/launch.h"
#include "runtime/warm_template.h"
#include "vmm/guest_files.h"
#include "vmm/host_kvm.h"
#include "vmm/machine.h"

namespace vk {

// Every VM starts from its shape's template unless told to boot (--cold,
// VIRTKIT_COLD_BOOT=1, or options only a boot can honour).
bool UseTemplate(const LaunchOptions& options);
TemplateShape ShapeFor(const LaunchOptions& options, KvmFlavor flavor, uint32_t cpus, bool scratch);
// Makes the template of `shape` if missing (before the sandbox goes on);
// returns its directory.
Result<std::string> PrepareTemplate(const TemplateShape& shape, const TemplateGuest& guest,
                                    const LaunchOptions& options);
// Restores the VM from its template `dir`, or boots it when that fails.
Result<std::unique_ptr<Machine>> CreateFromTemplate(MachineConfig config, const std::string& dir,
                                                    GuestFiles& files);

}  // namespace vk
