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

class System {
 public:
  // Opens /dev/kvm. On EACCES/ENOENT the error says how to fix it.
  static Result<System> Open(const char* path = "/dev/kvm");

  Result<std::unique_ptr<Vm>> CreateVm() const;
  Result<CpuidEntries> SupportedCpuid() const;
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
  uint32_t id() const { return id_; }
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  MappedRegion run_;
  uint32_t id_;
};

}  // namespace vk::kvm
