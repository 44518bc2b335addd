#include "vmm/cpu_state.h"

#include <algorithm>
#include <string>

#include "base/log.h"
#include "base/strings.h"

namespace vk {
namespace {

constexpr uint32_t kMsrTsc = 0x10;
constexpr uint32_t kMsrTscDeadline = 0x6e0;
constexpr uint32_t kMsrArchCapabilities = 0x10a;
// IRQCHIP ids (KVM API: KVM_IRQCHIP_PIC_MASTER, _PIC_SLAVE, _IOAPIC).
constexpr uint32_t kIrqchipCount = 3;
// Bounds on what a saved record may claim (it is read from a file).
constexpr uint32_t kMaxSavedCpuid = 256;
constexpr uint32_t kMaxSavedMsrs = 1024;

constexpr uint32_t kVcpuRecordVersion = 1;
constexpr uint32_t kVmRecordVersion = 1;

Result<void> ApplyRegisters(kvm::Vcpu& vcpu, const VcpuState& state) {
  if (state.sregs2) {
    VK_TRY(vcpu.SetSregs2(*state.sregs2));
  } else {
    VK_TRY(vcpu.SetSregs(state.sregs));
  }
  if (state.tsc_khz != 0) {
    // The same rate as where it was saved; a host that cannot scale refuses,
    // and a guest whose TSC ran at another rate would see time jump.
    auto rate = vcpu.SetTscKhz(state.tsc_khz);
    if (!rate.ok()) {
      auto here = vcpu.GetTscKhz();
      if (!here.ok() || *here != state.tsc_khz) return std::move(rate).error();
    }
  }
  VK_TRY(vcpu.SetRegs(state.regs));
  if (!state.xsave.empty()) {
    VK_TRY(vcpu.SetXsave(state.xsave));
  } else {
    VK_TRY(vcpu.SetFpu(state.fpu));
  }
  if (state.xcrs) VK_TRY(vcpu.SetXcrs(*state.xcrs));
  return Ok();
}

}  // namespace

std::vector<uint32_t> SnapshotMsrIndices(const std::vector<uint32_t>& kvm_list) {
  std::vector<uint32_t> indices;
  for (uint32_t index : kvm_list) {
    if (index != kMsrArchCapabilities) indices.push_back(index);
  }
  for (uint32_t extra : {kMsrTsc, kMsrTscDeadline}) {
    if (std::find(indices.begin(), indices.end(), extra) == indices.end()) {
      indices.push_back(extra);
    }
  }
  return indices;
}

Result<VcpuState> CaptureVcpu(const kvm::System& system, const kvm::Vcpu& vcpu) {
  VcpuState state;
  state.cpuid = VK_TRY(vcpu.GetCpuid());
  state.regs = VK_TRY(vcpu.GetRegs());
  if (system.CheckExtension(KVM_CAP_SREGS2) > 0) {
    state.sregs2 = VK_TRY(vcpu.GetSregs2());
  } else {
    state.sregs = VK_TRY(vcpu.GetSregs());
  }
  if (size_t size = system.XsaveSize(); size != 0) {
    state.xsave = VK_TRY(vcpu.GetXsave(size));
  } else {
    state.fpu = VK_TRY(vcpu.GetFpu());
  }
  if (system.CheckExtension(KVM_CAP_XCRS) > 0) state.xcrs = VK_TRY(vcpu.GetXcrs());
  std::vector<uint32_t> indices = SnapshotMsrIndices(VK_TRY(system.MsrIndexList()));
  state.msrs = VK_TRY(vcpu.GetMsrs(indices));
  if (state.msrs.size() != indices.size()) {
    std::string refused;
    for (uint32_t index : indices) {
      bool saved = std::any_of(state.msrs.begin(), state.msrs.end(),
                               [index](const auto& msr) { return msr.first == index; });
      if (!saved) refused += " 0x" + ToHex(index);
    }
    log::Debug("snapshot: KVM gave {} of {} MSRs; not readable:{}", state.msrs.size(),
               indices.size(), refused);
  }
  state.events = VK_TRY(vcpu.GetEvents());
  state.mp_state = VK_TRY(vcpu.GetMpState());
  state.debugregs = VK_TRY(vcpu.GetDebugRegs());
  state.lapic = VK_TRY(vcpu.GetLapic());
  auto khz = vcpu.GetTscKhz();
  state.tsc_khz = khz.ok() ? *khz : 0;
  return state;
}

Result<void> ApplyVcpu(kvm::Vcpu& vcpu, const VcpuState& state) {
  VK_TRY(vcpu.SetCpuid(state.cpuid));
  VK_TRY(ApplyRegisters(vcpu, state));
  // The LAPIC before the MSRs: KVM_SET_LAPIC re-initialises the APIC timer,
  // so a TSC_DEADLINE written before it is lost and a guest using the
  // TSC-deadline timer (Linux does) never gets its next tick.
  VK_TRY(vcpu.SetLapic(state.lapic));
  VK_TRY(vcpu.SetMsrs(state.msrs));
  VK_TRY(vcpu.SetEvents(state.events));
  VK_TRY(vcpu.SetMpState(state.mp_state));
  VK_TRY(vcpu.SetDebugRegs(state.debugregs));
  return Ok();
}

Result<VmKvmState> CaptureVm(const kvm::Vm& vm) {
  VmKvmState state;
  for (uint32_t chip = 0; chip < kIrqchipCount; ++chip) {
    state.irqchips.push_back(VK_TRY(vm.GetIrqchip(chip)));
  }
  state.clock = VK_TRY(vm.GetClock());
  state.pit = VK_TRY(vm.GetPit());
  return state;
}

Result<void> ApplyVm(kvm::Vm& vm, const VmKvmState& state) {
  for (const kvm_irqchip& chip : state.irqchips) VK_TRY(vm.SetIrqchip(chip));
  VK_TRY(vm.SetClock(state.clock));
  VK_TRY(vm.SetPit(state.pit));
  return Ok();
}

void WriteVcpuState(StateWriter& out, const VcpuState& state) {
  out.BeginRecord("vcpu", kVcpuRecordVersion);
  out.U32(static_cast<uint32_t>(state.cpuid.size()));
  for (const kvm_cpuid_entry2& entry : state.cpuid) out.Struct(entry);
  out.Struct(state.regs);
  out.Bool(state.sregs2.has_value());
  if (state.sregs2) {
    out.Struct(*state.sregs2);
  } else {
    out.Struct(state.sregs);
  }
  out.Bytes(state.xsave);
  out.Struct(state.fpu);
  out.Bool(state.xcrs.has_value());
  if (state.xcrs) out.Struct(*state.xcrs);
  out.U32(static_cast<uint32_t>(state.msrs.size()));
  for (const auto& [index, value] : state.msrs) {
    out.U32(index);
    out.U64(value);
  }
  out.Struct(state.events);
  out.Struct(state.mp_state);
  out.Struct(state.debugregs);
  out.Struct(state.lapic);
  out.U32(state.tsc_khz);
}

Result<VcpuState> ReadVcpuState(StateReader& in) {
  VK_TRY(in.ExpectRecord("vcpu", kVcpuRecordVersion));
  VcpuState state;
  uint32_t cpuid_count = VK_TRY(in.U32());
  if (cpuid_count > kMaxSavedCpuid) return Error("saved vCPU has too many CPUID entries");
  for (uint32_t i = 0; i < cpuid_count; ++i) {
    state.cpuid.push_back(VK_TRY(in.Struct<kvm_cpuid_entry2>("CPUID entry")));
  }
  state.regs = VK_TRY(in.Struct<kvm_regs>("registers"));
  if (VK_TRY(in.Bool())) {
    state.sregs2 = VK_TRY(in.Struct<kvm_sregs2>("special registers"));
  } else {
    state.sregs = VK_TRY(in.Struct<kvm_sregs>("special registers"));
  }
  state.xsave = VK_TRY(in.Bytes());
  if (!state.xsave.empty() && state.xsave.size() < kvm::kXsaveLegacySize) {
    return Error("saved XSAVE area is too short");
  }
  state.fpu = VK_TRY(in.Struct<kvm_fpu>("FPU state"));
  if (VK_TRY(in.Bool())) state.xcrs = VK_TRY(in.Struct<kvm_xcrs>("XCRs"));
  uint32_t msr_count = VK_TRY(in.U32());
  if (msr_count > kMaxSavedMsrs) return Error("saved vCPU has too many MSRs");
  for (uint32_t i = 0; i < msr_count; ++i) {
    uint32_t index = VK_TRY(in.U32());
    state.msrs.emplace_back(index, VK_TRY(in.U64()));
  }
  state.events = VK_TRY(in.Struct<kvm_vcpu_events>("pending events"));
  state.mp_state = VK_TRY(in.Struct<kvm_mp_state>("MP state"));
  state.debugregs = VK_TRY(in.Struct<kvm_debugregs>("debug registers"));
  state.lapic = VK_TRY(in.Struct<kvm_lapic_state>("local APIC"));
  state.tsc_khz = VK_TRY(in.U32());
  return state;
}

void WriteVmKvmState(StateWriter& out, const VmKvmState& state) {
  out.BeginRecord("kvm ", kVmRecordVersion);
  out.Struct(state.clock);
  out.U32(static_cast<uint32_t>(state.irqchips.size()));
  for (const kvm_irqchip& chip : state.irqchips) out.Struct(chip);
  out.Struct(state.pit);
}

Result<VmKvmState> ReadVmKvmState(StateReader& in) {
  VK_TRY(in.ExpectRecord("kvm ", kVmRecordVersion));
  VmKvmState state;
  state.clock = VK_TRY(in.Struct<kvm_clock_data>("kvmclock"));
  uint32_t chips = VK_TRY(in.U32());
  if (chips != kIrqchipCount) return Error("saved VM has " + std::to_string(chips) + " irqchips");
  for (uint32_t i = 0; i < chips; ++i) {
    kvm_irqchip chip = VK_TRY(in.Struct<kvm_irqchip>("interrupt controller"));
    if (chip.chip_id != i) return Error("saved interrupt controllers are out of order");
    state.irqchips.push_back(chip);
  }
  state.pit = VK_TRY(in.Struct<kvm_pit_state2>("PIT"));
  return state;
}

}  // namespace vk
