#include "vmm/kernel_loader.h"

#include <elf.h>

#include <cstring>
#include <string>

#include "base/strings.h"
#include "vmm/layout.h"

namespace vk {
namespace {

constexpr uint32_t kHdrSMagic = 0x53726448;  // "HdrS", boot.rst
constexpr uint64_t kSetupHeaderOffset = 0x1f1;
constexpr uint16_t kMinBootProtocol = 0x020c;  // 2.12: xloadflags, 64-bit entry
constexpr uint16_t kXlfKernel64 = 1 << 0;      // XLF_KERNEL_64
constexpr uint64_t kEntry64Offset = 0x200;
// Abuse bound: a program header table larger than this is not a kernel.
constexpr uint16_t kMaxProgramHeaders = 64;

bool IsElf(std::span<const uint8_t> image) {
  return image.size() >= SELFMAG && std::memcmp(image.data(), ELFMAG, SELFMAG) == 0;
}

template <typename T>
Result<T> ReadAt(std::span<const uint8_t> image, uint64_t offset, const char* what) {
  if (offset > image.size() || sizeof(T) > image.size() - offset) {
    return Error(std::string("kernel image truncated: no room for ") + what);
  }
  T value;
  std::memcpy(&value, image.data() + offset, sizeof(T));
  return value;
}

Result<void> CheckElfHeader(const Elf64_Ehdr& header) {
  if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_ident[EI_DATA] != ELFDATA2LSB) {
    return Error("kernel ELF is not 64-bit little-endian");
  }
  if (header.e_machine != EM_X86_64) return Error("kernel ELF is not for x86_64");
  if (header.e_type != ET_EXEC) return Error("kernel ELF is not an executable (ET_EXEC)");
  if (header.e_phentsize != sizeof(Elf64_Phdr) || header.e_phnum == 0 ||
      header.e_phnum > kMaxProgramHeaders) {
    return Error("kernel ELF has a malformed program header table");
  }
  return Ok();
}

Result<void> LoadSegment(const GuestMemory& memory, std::span<const uint8_t> image,
                         const Elf64_Phdr& segment) {
  if (segment.p_filesz > segment.p_memsz || segment.p_offset > image.size() ||
      segment.p_filesz > image.size() - segment.p_offset) {
    return Error("kernel ELF segment lies outside the file");
  }
  // Below 1 MiB live the zero page, page tables, cmdline and MP table.
  if (segment.p_paddr < layout::kHighMemory) {
    return Error("kernel ELF segment at 0x" + ToHex(segment.p_paddr) +
                 " overlaps the VMM's boot structures below 1 MiB");
  }
  auto target = VK_TRY_CTX(memory.Slice(segment.p_paddr, segment.p_memsz),
                           "kernel ELF segment does not fit in guest memory (use more --mem)");
  std::memcpy(target.data(), image.data() + segment.p_offset, segment.p_filesz);
  std::memset(target.data() + segment.p_filesz, 0, segment.p_memsz - segment.p_filesz);
  return Ok();
}

}  // namespace

Result<LoadedKernel> LoadElfKernel(const GuestMemory& memory, std::span<const uint8_t> image) {
  auto header = VK_TRY(ReadAt<Elf64_Ehdr>(image, 0, "ELF header"));
  VK_TRY(CheckElfHeader(header));
  LoadedKernel kernel;
  kernel.entry = header.e_entry;
  bool entry_loaded = false;
  for (uint16_t i = 0; i < header.e_phnum; ++i) {
    auto segment = VK_TRY(ReadAt<Elf64_Phdr>(
        image, header.e_phoff + static_cast<uint64_t>(i) * sizeof(Elf64_Phdr), "program header"));
    if (segment.p_type != PT_LOAD) continue;
    VK_TRY(LoadSegment(memory, image, segment));
    uint64_t end = segment.p_paddr + segment.p_memsz;  // no overflow: Slice() checked it
    if (end > kernel.end) kernel.end = end;
    if (kernel.entry >= segment.p_paddr && kernel.entry < end) entry_loaded = true;
  }
  if (!entry_loaded) return Error("kernel ELF entry point is not inside a loaded segment");
  return kernel;
}

Result<LoadedKernel> LoadBzImage(const GuestMemory& memory, std::span<const uint8_t> image) {
  auto header = VK_TRY(ReadAt<setup_header>(image, kSetupHeaderOffset, "setup header"));
  if (header.header != kHdrSMagic) return Error("not a bzImage (no HdrS magic)");
  if (header.version < kMinBootProtocol || (header.xloadflags & kXlfKernel64) == 0) {
    return Error(
        "bzImage has no 64-bit entry point (boot protocol 2.12+ with XLF_KERNEL_64 needed)");
  }
  if ((header.loadflags & LOADED_HIGH) == 0) return Error("bzImage is not a high-loading kernel");
  uint64_t setup_sectors = header.setup_sects == 0 ? 4 : header.setup_sects;
  uint64_t setup_bytes = (setup_sectors + 1) * 512;
  if (setup_bytes >= image.size()) return Error("bzImage truncated: no protected-mode kernel");
  std::span<const uint8_t> kernel_code = image.subspan(setup_bytes);
  // The decompressor needs init_size bytes from the load address.
  uint64_t footprint = std::max<uint64_t>(kernel_code.size(), header.init_size);
  auto target = VK_TRY_CTX(memory.Slice(layout::kHighMemory, footprint),
                           "bzImage does not fit in guest memory (use more --mem)");
  std::memcpy(target.data(), kernel_code.data(), kernel_code.size());
  LoadedKernel kernel;
  kernel.entry = layout::kHighMemory + kEntry64Offset;
  kernel.end = layout::kHighMemory + footprint;
  kernel.header = header;
  return kernel;
}

Result<LoadedKernel> LoadKernel(const GuestMemory& memory, std::span<const uint8_t> image) {
  if (IsElf(image)) return LoadElfKernel(memory, image).Context("load ELF kernel");
  return LoadBzImage(memory, image).Context("load bzImage kernel");
}

}  // namespace vk
