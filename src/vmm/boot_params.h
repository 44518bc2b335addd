// The Linux "zero page" (struct boot_params, Documentation/x86/zero-page.rst)
// that a 64-bit boot hands to the kernel in RSI: e820 memory map, command
// line, initrd location and the setup header (boot.rst).
#pragma once

#include <asm/bootparam.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "base/guest_memory.h"
#include "base/result.h"

namespace vk {

struct E820Entry {
  uint64_t address;
  uint64_t size;
  uint32_t type;  // E820_TYPE_RAM (1) or E820_TYPE_RESERVED (2)
};

// RAM ranges of the guest ([0, EBDA) and [1 MiB, ...) below the MMIO hole,
// anything above 4 GiB) with the EBDA/BIOS area reserved.
std::vector<E820Entry> BuildE820(const GuestMemory& memory);

struct BootParamsInput {
  std::optional<setup_header> kernel_header;  // from a bzImage; synthesized for ELF
  uint64_t cmdline_address = 0;
  uint32_t cmdline_size = 0;  // bytes including the NUL
  uint64_t initrd_address = 0;
  uint32_t initrd_size = 0;
  std::vector<E820Entry> e820;
};

Result<boot_params> BuildBootParams(const BootParamsInput& input);

// Where to put an initrd of `size` bytes: page-aligned, as high as possible
// in RAM below 4 GiB (and below the kernel's initrd_addr_max), above
// `kernel_end`.
Result<uint64_t> PlaceInitrd(const GuestMemory& memory, uint64_t size, uint64_t kernel_end,
                             uint64_t initrd_addr_max);

}  // namespace vk
