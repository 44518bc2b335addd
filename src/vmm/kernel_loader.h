// Loads a Linux kernel image into guest memory: an ELF vmlinux (segments at
// their physical addresses, entered at e_entry in 64-bit mode) or a bzImage
// (Linux x86 boot protocol, Documentation/x86/boot.rst: protected-mode code
// at 1 MiB, 64-bit entry at +0x200). The image is a user-supplied file, so it
// is parsed defensively: every offset and size is checked.
#pragma once

#include <asm/bootparam.h>

#include <cstdint>
#include <optional>
#include <span>

#include "base/guest_memory.h"
#include "base/result.h"

namespace vk {

struct LoadedKernel {
  uint64_t entry = 0;  // guest-physical 64-bit entry point
  uint64_t end = 0;    // first byte after the loaded image (incl. bss / init_size)
  // bzImage only: the setup header to copy into boot_params (boot.rst
  // "the real-mode kernel header"); ELF kernels get a synthesized one.
  std::optional<setup_header> header;
};

Result<LoadedKernel> LoadKernel(const GuestMemory& memory, std::span<const uint8_t> image);

// Exposed for tests.
Result<LoadedKernel> LoadElfKernel(const GuestMemory& memory, std::span<const uint8_t> image);
Result<LoadedKernel> LoadBzImage(const GuestMemory& memory, std::span<const uint8_t> image);

}  // namespace vk
