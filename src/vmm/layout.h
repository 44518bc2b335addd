// Guest-physical memory map of a virtkit x86_64 VM. Every fixed address the
// VMM writes before the first instruction lives here, so overlaps are visible
// in one place (and checked by layout_test.cc).
#pragma once

#include <cstdint>

namespace vk::layout {

inline constexpr uint64_t kGdt = 0x500;               // boot GDT (4 entries)
inline constexpr uint64_t kIdt = 0x520;               // empty boot IDT
inline constexpr uint64_t kBootStack = 0x8ff0;        // initial RSP/RBP
inline constexpr uint64_t kZeroPage = 0x7000;         // struct boot_params
inline constexpr uint64_t kPml4 = 0x9000;             // identity page tables:
inline constexpr uint64_t kPdpt = 0xa000;             //   PML4 -> PDPT -> 4 PDs
inline constexpr uint64_t kPageDirectories = 0xb000;  // 0xb000..0xefff, 4 GiB of 2 MiB pages
inline constexpr uint64_t kIdentityMappedBytes = 4ull << 30;
inline constexpr uint64_t kCmdline = 0x20000;
inline constexpr uint64_t kCmdlineMax = 4096;      // boot protocol cmdline_size we announce
inline constexpr uint64_t kEbdaStart = 0x9fc00;    // MP table lives here (MP spec 1.4 §4)
inline constexpr uint64_t kBiosEnd = 0x100000;     // [EBDA, 1 MiB) is reserved in e820
inline constexpr uint64_t kHighMemory = 0x100000;  // bzImage protected-mode code loads here

// RAM below the 32-bit MMIO hole, then the rest above 4 GiB.
inline constexpr uint64_t kMmioHoleStart = 0xc0000000;
inline constexpr uint64_t kMmioHoleEnd = 0x100000000;
// virtio-mmio device windows: one 4 KiB slot each, IOAPIC pins from kFirstDeviceIrq.
inline constexpr uint64_t kVirtioMmioBase = 0xd0000000;
inline constexpr uint64_t kVirtioMmioSlot = 0x1000;
inline constexpr uint32_t kFirstDeviceIrq = 5;
inline constexpr uint32_t kLastDeviceIrq = 23;  // IOAPIC has 24 pins
// KVM needs three pages for the real-mode TSS and one for the identity map,
// somewhere unused below 4 GiB (the same places other VMMs use).
inline constexpr uint64_t kKvmTss = 0xfffbd000;
inline constexpr uint64_t kKvmIdentityMap = 0xfffbc000;
inline constexpr uint64_t kIoapic = 0xfec00000;
inline constexpr uint64_t kLapic = 0xfee00000;

// I/O ports.
// The COM ports (0x3f8.., IRQs 4 and 3) are in vmm/serial_ports.h.
inline constexpr uint16_t kI8042Data = 0x60;
inline constexpr uint16_t kI8042Command = 0x64;
inline constexpr uint8_t kI8042ResetCommand = 0xfe;
// Our patched guest kernel writes its power-off status here (QEMU's
// isa-debug-exit port, kernel/patches/0004-exit-port-power-off.patch).
inline constexpr uint16_t kExitPort = 0xf4;

}  // namespace vk::layout
