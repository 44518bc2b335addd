// Puts x86_64 vCPUs in the state the Linux 64-bit boot protocol expects
// (Documentation/x86/boot.rst, "64-bit boot protocol"): long mode with an
// identity map, flat segments, RSI = boot_params, interrupts off. Also CPUID
// (topology per vCPU), boot MSRs, FPU and local APIC LINT0/LINT1 wiring.
#pragma once

#include <cstdint>

#include "base/guest_memory.h"
#include "base/result.h"
#include "kvm/kvm.h"

namespace vk {

// Writes the boot GDT, an empty IDT and identity-mapping page tables.
Result<void> WriteBootTables(const GuestMemory& memory);

// The CPUID a given vCPU sees: the host's supported set with its APIC ID,
// the vCPU count and the hypervisor bit filled in.
kvm::CpuidEntries CpuidForVcpu(const kvm::CpuidEntries& supported, uint32_t vcpu_id,
                               uint32_t vcpu_count);

// Configures `vcpu`. The bootstrap vCPU (id 0) starts at `entry` in long mode;
// the others wait for INIT/SIPI in the in-kernel LAPIC.
Result<void> SetupVcpu(kvm::Vcpu& vcpu, const kvm::CpuidEntries& supported, uint32_t vcpu_count,
                       uint64_t entry, uint64_t boot_params);

}  // namespace vk
