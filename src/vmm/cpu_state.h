// The KVM-held state of a paused machine (docs/snapshots.md): per vCPU and
// for the VM (in-kernel interrupt controllers, PIT, kvmclock). Captured from
// a machine whose vCPUs are all out of KVM_RUN, applied to a fresh VM with
// the same vCPU count before any vCPU runs.
//
// Order matters on restore: CPUID first (it sizes the XSAVE area and gates
// MSRs), SREGS2/SREGS, TSC rate, REGS, XSAVE/FPU, XCRS, LAPIC, then the MSRs
// (KVM_SET_LAPIC re-initialises the APIC timer: TSC_DEADLINE must come
// after it), events, MP state, debug registers; then the VM's IRQCHIPs,
// clock and PIT; finally KVM_KVMCLOCK_CTRL so the guest does not take the
// pause for a lockup.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "base/result.h"
#include "base/state_stream.h"
#include "kvm/kvm.h"

namespace vk {

struct VcpuState {
  kvm::CpuidEntries cpuid;
  kvm_regs regs{};
  std::optional<kvm_sregs2> sregs2;  // KVM_CAP_SREGS2 (keeps the PDPTRs)
  kvm_sregs sregs{};                 // used when sregs2 is absent
  std::vector<uint8_t> xsave;        // empty: no KVM XSAVE, `fpu` holds x87/SSE
  kvm_fpu fpu{};
  std::optional<kvm_xcrs> xcrs;  // KVM_CAP_XCRS
  kvm::MsrList msrs;
  kvm_vcpu_events events{};
  kvm_mp_state mp_state{};
  kvm_debugregs debugregs{};
  kvm_lapic_state lapic{};
  uint32_t tsc_khz = 0;
};

struct VmKvmState {
  kvm_clock_data clock{};
  std::vector<kvm_irqchip> irqchips;  // PIC master, PIC slave, IOAPIC
  kvm_pit_state2 pit{};
};

// The MSRs a snapshot carries: KVM's index list plus TSC and TSC_DEADLINE,
// never IA32_ARCH_CAPABILITIES (PVM hosts refuse it; it is a CPU feature,
// not state).
std::vector<uint32_t> SnapshotMsrIndices(const std::vector<uint32_t>& kvm_list);

Result<VcpuState> CaptureVcpu(const kvm::System& system, const kvm::Vcpu& vcpu);
// The CPUID part is applied by ApplyVcpu too; `vcpu` must not have run.
Result<void> ApplyVcpu(kvm::Vcpu& vcpu, const VcpuState& state);

Result<VmKvmState> CaptureVm(const kvm::Vm& vm);
Result<void> ApplyVm(kvm::Vm& vm, const VmKvmState& state);

void WriteVcpuState(StateWriter& out, const VcpuState& state);
Result<VcpuState> ReadVcpuState(StateReader& in);
void WriteVmKvmState(StateWriter& out, const VmKvmState& state);
Result<VmKvmState> ReadVmKvmState(StateReader& in);

}  // namespace vk
