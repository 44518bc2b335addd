// Thin RAII wrappers over the /dev/kvm ioctl API (KVM API version 12):
// System (the /dev/kvm handle), Vm (one virtual machine) and Vcpu. They only
// translate ioctls into Result values; policy lives in src/vmm.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "base/mapped_region.h"
#include "base/result.h"
#include "base/unique_fd.h"

namespace vk::kvm {

class Vm;
class Vcpu;

// CPUID entries as KVM exchanges them (struct kvm_cpuid2 + entries).
using CpuidEntries = std::vector<kvm_cpuid_entry2>;
// (index, value) pairs of model-specific registers.
using MsrList = std::vector<std::pair<uint32_t, uint64_t>>;
// The size of struct kvm_xsave as the kernel's C ABI lays it out.
inline constexpr size_t kXsaveLegacySize = 4096;

class System {
 public:
  // Opens /dev/kvm. On EACCES/ENOENT the error says how to fix it.
  static Result<System> Open(const char* path = "/dev/kvm");

  Result<std::unique_ptr<Vm>> CreateVm() const;
  Result<CpuidEntries> SupportedCpuid() const;
  // KVM_GET_MSR_INDEX_LIST: the MSRs KVM saves and restores for a vCPU.
  Result<std::vector<uint32_t>> MsrIndexList() const;
  // Bytes of vCPU extended state (KVM_CAP_XSAVE2, at least 4096), 0 when
  // the host has no XSAVE support in KVM.
  size_t XsaveSize() const;
  Result<int> VcpuMmapSize() const;
  // KVM_CHECK_EXTENSION: > 0 when supported (value is capability-specific).
  int CheckExtension(int capability) const;
  int fd() const { return fd_.get(); }

 private:
  explicit System(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

class Vm {
 public:
  Vm(UniqueFd fd, int vcpu_mmap_size) : fd_(std::move(fd)), vcpu_mmap_size_(vcpu_mmap_size) {}

  Result<void> SetUserMemoryRegion(uint32_t slot, uint64_t guest_address, uint64_t size,
                                   void* host);
  Result<void> SetTssAddress(uint64_t address);
  Result<void> SetIdentityMapAddress(uint64_t address);
  Result<void> CreateIrqchip();
  Result<void> CreatePit();
  // Edge-triggered interrupt on `gsi` whenever `eventfd` is written.
  Result<void> AddIrqfd(int eventfd, uint32_t gsi);
  // `eventfd` is signalled (and the vCPU not exited) on an MMIO write of
  // `length` bytes equal to `datamatch` at `address`.
  Result<void> AddIoeventfd(int eventfd, uint64_t address, uint32_t length, uint64_t datamatch);
  Result<void> SetIrqLine(uint32_t irq, bool level);
  // Saved VM state: the kvmclock, the in-kernel PIC master (0), slave (1)
  // and IOAPIC (2), and the PIT.
  Result<kvm_clock_data> GetClock() const;
  Result<void> SetClock(const kvm_clock_data& clock);
  Result<kvm_irqchip> GetIrqchip(uint32_t chip_id) const;
  Result<void> SetIrqchip(const kvm_irqchip& chip);
  Result<kvm_pit_state2> GetPit() const;
  Result<void> SetPit(const kvm_pit_state2& pit);
  Result<std::unique_ptr<Vcpu>> CreateVcpu(uint32_t id);
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  int vcpu_mmap_size_;
};

class Vcpu {
 public:
  Vcpu(UniqueFd fd, MappedRegion run, uint32_t id)
      : fd_(std::move(fd)), run_(std::move(run)), id_(id) {}

  // KVM_RUN. EINTR (a kick) is returned as an error with errno_value EINTR.
  Result<void> Run();
  kvm_run* run_state() const { return reinterpret_cast<kvm_run*>(run_.data()); }
  // Makes the next/current KVM_RUN return at once (set from any thread).
  void RequestImmediateExit(bool value) { run_state()->immediate_exit = value ? 1 : 0; }

  Result<kvm_regs> GetRegs() const;
  Result<void> SetRegs(const kvm_regs& regs);
  Result<kvm_sregs> GetSregs() const;
  Result<void> SetSregs(const kvm_sregs& sregs);
  Result<void> SetFpu(const kvm_fpu& fpu);
  Result<void> SetCpuid(const CpuidEntries& entries);
  // Sets each (index, value); fails naming the first MSR KVM refused.
  Result<void> SetMsrs(const std::vector<std::pair<uint32_t, uint64_t>>& msrs);
  Result<void> SetLapic(const kvm_lapic_state& state);
  Result<kvm_lapic_state> GetLapic() const;

  // --- Saved vCPU state (snapshots) ---
  Result<CpuidEntries> GetCpuid() const;
  Result<kvm_sregs2> GetSregs2() const;
  Result<void> SetSregs2(const kvm_sregs2& sregs);
  Result<kvm_fpu> GetFpu() const;
  // `size` from System::XsaveSize(); KVM_GET_XSAVE2 above 4096 bytes.
  Result<std::vector<uint8_t>> GetXsave(size_t size) const;
  Result<void> SetXsave(const std::vector<uint8_t>& state);
  Result<kvm_xcrs> GetXcrs() const;
  Result<void> SetXcrs(const kvm_xcrs& xcrs);
  // Reads each MSR of `indices` KVM will give; the ones it refuses are left
  // out (the index list names MSRs a given CPU may not have).
  Result<MsrList> GetMsrs(const std::vector<uint32_t>& indices) const;
  Result<kvm_vcpu_events> GetEvents() const;
  Result<void> SetEvents(const kvm_vcpu_events& events);
  Result<kvm_mp_state> GetMpState() const;
  Result<void> SetMpState(const kvm_mp_state& state);
  Result<kvm_debugregs> GetDebugRegs() const;
  Result<void> SetDebugRegs(const kvm_debugregs& regs);
  Result<uint32_t> GetTscKhz() const;
  Result<void> SetTscKhz(uint32_t khz);
  // Tells a guest using kvmclock that it was paused (no soft-lockup alarm).
  // A guest that never registered kvmclock answers EINVAL: not an error.
  Result<void> NotifyClockPaused();
  uint32_t id() const { return id_; }
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  MappedRegion run_;
  uint32_t id_;
};

}  // namespace vk::kvm
