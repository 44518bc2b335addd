#include "vmm/x86_boot_cpu.h"

#include <cstring>

#include "base/log.h"
#include "vmm/layout.h"

namespace vk {
namespace {

constexpr uint64_t kPresentWritable = 0x3;
constexpr uint64_t kHugePage = 0x80;
constexpr uint64_t kCr0Pe = 1ull << 0;
constexpr uint64_t kCr0Pg = 1ull << 31;
constexpr uint64_t kCr4Pae = 1ull << 5;
constexpr uint64_t kEferLme = 1ull << 8;
constexpr uint64_t kEferLma = 1ull << 10;
constexpr uint16_t kCodeSelector = 0x08;
constexpr uint16_t kDataSelector = 0x10;
constexpr uint16_t kTssSelector = 0x18;

// A GDT descriptor from flags (type/S/DPL/P in bits 0-7, AVL/L/DB/G in 12-15).
uint64_t GdtEntry(uint16_t flags, uint32_t base, uint32_t limit) {
  return ((static_cast<uint64_t>(base) & 0xff000000) << (56 - 24)) |
         ((static_cast<uint64_t>(flags) & 0xf0ff) << 40) |
         ((static_cast<uint64_t>(limit) & 0x000f0000) << (48 - 16)) |
         ((static_cast<uint64_t>(base) & 0x00ffffff) << 16) | (limit & 0x0000ffff);
}

kvm_segment Segment(uint16_t selector, uint8_t type, bool code64, bool system) {
  kvm_segment s{};
  s.base = 0;
  s.limit = 0xfffff;
  s.selector = selector;
  s.type = type;
  s.present = 1;
  s.dpl = 0;
  s.db = code64 || !system ? 0 : 0;
  s.s = system ? 0 : 1;
  s.l = code64 ? 1 : 0;
  s.g = 1;
  if (!code64 && !system) s.db = 1;
  return s;
}

Result<void> SetupSregs(kvm::Vcpu& vcpu) {
  kvm_sregs sregs = VK_TRY(vcpu.GetSregs());
  sregs.cs = Segment(kCodeSelector, 0xb, /*code64=*/true, /*system=*/false);
  kvm_segment data = Segment(kDataSelector, 0x3, false, false);
  sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
  sregs.tr = Segment(kTssSelector, 0xb, false, /*system=*/true);
  sregs.gdt.base = layout::kGdt;
  sregs.gdt.limit = 4 * sizeof(uint64_t) - 1;
  sregs.idt.base = layout::kIdt;
  sregs.idt.limit = sizeof(uint64_t) - 1;
  sregs.cr3 = layout::kPml4;
  sregs.cr4 |= kCr4Pae;
  sregs.cr0 |= kCr0Pe | kCr0Pg;
  sregs.efer |= kEferLme | kEferLma;
  return vcpu.SetSregs(sregs);
}

Result<void> SetupRegs(kvm::Vcpu& vcpu, uint64_t entry, uint64_t boot_params) {
  kvm_regs regs{};
  regs.rflags = 0x2;  // bit 1 is reserved-one; IF off
  regs.rip = entry;
  regs.rsp = regs.rbp = layout::kBootStack;
  regs.rsi = boot_params;
  return vcpu.SetRegs(regs);
}

Result<void> SetupFpu(kvm::Vcpu& vcpu) {
  kvm_fpu fpu{};
  fpu.fcw = 0x37f;     // x87 default control word
  fpu.mxcsr = 0x1f80;  // SSE default: all exceptions masked
  return vcpu.SetFpu(fpu);
}

// Boot MSRs as a freshly reset CPU would have them. Never IA32_ARCH_CAPABILITIES
// (0x10a): PVM hosts refuse it. A refused MSR is logged, not fatal.
void SetupMsrs(kvm::Vcpu& vcpu) {
  const std::pair<uint32_t, uint64_t> msrs[] = {
      {0x174, 0},               // IA32_SYSENTER_CS
      {0x175, 0},               // IA32_SYSENTER_ESP
      {0x176, 0},               // IA32_SYSENTER_EIP
      {0xc0000081, 0},          // STAR
      {0xc0000082, 0},          // LSTAR
      {0xc0000083, 0},          // CSTAR
      {0xc0000084, 0},          // SYSCALL_MASK
      {0xc0000102, 0},          // KERNEL_GS_BASE
      {0x10, 0},                // TSC
      {0x1a0, 1},               // IA32_MISC_ENABLE: fast strings
      {0x2ff, (1u << 11) | 6},  // MTRRdefType: enabled, write-back
  };
  for (const auto& msr : msrs) {
    auto set = vcpu.SetMsrs({msr});
    if (!set.ok()) log::Debug("vCPU {}: {}", vcpu.id(), set.error().message());
  }
}

// LINT0 = ExtINT (legacy PIC), LINT1 = NMI, as on a PC; matches the MP table.
Result<void> SetupLapic(kvm::Vcpu& vcpu) {
  constexpr size_t kLvt0 = 0x350, kLvt1 = 0x360;
  constexpr uint32_t kDeliveryExtInt = 7 << 8, kDeliveryNmi = 4 << 8;
  kvm_lapic_state lapic = VK_TRY(vcpu.GetLapic());
  auto set = [&](size_t offset, uint32_t mode) {
    uint32_t value;
    std::memcpy(&value, &lapic.regs[offset], 4);
    value = (value & ~0x700u) | mode;
    std::memcpy(&lapic.regs[offset], &value, 4);
  };
  set(kLvt0, kDeliveryExtInt);
  set(kLvt1, kDeliveryNmi);
  return vcpu.SetLapic(lapic);
}

}  // namespace

Result<void> WriteBootTables(const GuestMemory& memory) {
  const uint64_t gdt[4] = {
      0, GdtEntry(0xa09b, 0, 0xfffff),  // 64-bit code
      GdtEntry(0xc093, 0, 0xfffff),     // data
      GdtEntry(0x808b, 0, 0xfffff),     // TSS
  };
  for (int i = 0; i < 4; ++i) VK_TRY(memory.Write(layout::kGdt + i * 8, gdt[i]));
  VK_TRY(memory.Write<uint64_t>(layout::kIdt, 0));
  VK_TRY(memory.Write<uint64_t>(layout::kPml4, layout::kPdpt | kPresentWritable));
  constexpr uint64_t kGiB = 1ull << 30, kTwoMiB = 2ull << 20;
  for (uint64_t gib = 0; gib < layout::kIdentityMappedBytes / kGiB; ++gib) {
    uint64_t directory = layout::kPageDirectories + gib * 4096;
    VK_TRY(memory.Write<uint64_t>(layout::kPdpt + gib * 8, directory | kPresentWritable));
    for (uint64_t i = 0; i < 512; ++i) {
      uint64_t address = gib * kGiB + i * kTwoMiB;
      VK_TRY(memory.Write<uint64_t>(directory + i * 8, address | kPresentWritable | kHugePage));
    }
  }
  return Ok();
}

kvm::CpuidEntries CpuidForVcpu(const kvm::CpuidEntries& supported, uint32_t vcpu_id,
                               uint32_t vcpu_count) {
  kvm::CpuidEntries entries = supported;
  uint32_t shift = 0;
  while ((1u << shift) < vcpu_count) ++shift;
  for (kvm_cpuid_entry2& e : entries) {
    switch (e.function) {
      case 1:
        e.ebx = (vcpu_id << 24) | (vcpu_count << 16) | (e.ebx & 0xffff);
        e.ecx |= 1u << 31;                      // running under a hypervisor
        if (vcpu_count > 1) e.edx |= 1u << 28;  // HTT: multiple logical CPUs
        break;
      case 0xb:
      case 0x1f:
        // One thread per core, vcpu_count cores in one package (SDM vol. 2A CPUID.0BH).
        e.edx = vcpu_id;
        if (e.index == 0) {
          e.eax = 0, e.ebx = 1, e.ecx = (1u << 8) | 0;
        } else if (e.index == 1) {
          e.eax = shift, e.ebx = vcpu_count, e.ecx = (2u << 8) | 1;
        } else {
          e.eax = e.ebx = 0, e.ecx = e.index;
        }
        break;
      case 4:
        e.eax = (e.eax & 0x3ff) | ((vcpu_count - 1) << 26);  // cores per package - 1
        break;
      case 0x80000008:
        e.ecx = (e.ecx & ~0xffu) | (vcpu_count - 1);  // AMD: NC = cores - 1
        break;
      default: break;
    }
  }
  return entries;
}

Result<void> SetupVcpu(kvm::Vcpu& vcpu, const kvm::CpuidEntries& supported, uint32_t vcpu_count,
                       uint64_t entry, uint64_t boot_params) {
  VK_TRY_CTX(vcpu.SetCpuid(CpuidForVcpu(supported, vcpu.id(), vcpu_count)), "set CPUID");
  SetupMsrs(vcpu);
  VK_TRY_CTX(SetupLapic(vcpu), "set up local APIC");
  if (vcpu.id() != 0) return Ok();  // application processors wait for INIT/SIPI
  VK_TRY_CTX(SetupFpu(vcpu), "set up FPU");
  VK_TRY_CTX(SetupRegs(vcpu, entry, boot_params), "set up registers");
  VK_TRY_CTX(SetupSregs(vcpu), "set up long mode");
  return Ok();
}

}  // namespace vk
