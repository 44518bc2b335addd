// Test/benchmark helper: an x86_64 ELF "kernel" with one PT_LOAD segment
// holding `code` at `load_address` (also its entry point), so a VM can run a
// few hand-written instructions.
#pragma once

#include <elf.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace vk::testing {

inline std::vector<uint8_t> TinyElfKernel(const std::vector<uint8_t>& code,
                                          uint64_t load_address = 0x1000000, uint64_t entry = 0,
                                          uint64_t memory_size = 0) {
  constexpr size_t kHeaders = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
  std::vector<uint8_t> image(kHeaders + code.size());
  Elf64_Ehdr header{};
  std::memcpy(header.e_ident, ELFMAG, SELFMAG);
  header.e_ident[EI_CLASS] = ELFCLASS64;
  header.e_ident[EI_DATA] = ELFDATA2LSB;
  header.e_type = ET_EXEC;
  header.e_machine = EM_X86_64;
  header.e_entry = entry != 0 ? entry : load_address;
  header.e_phoff = sizeof(Elf64_Ehdr);
  header.e_phentsize = sizeof(Elf64_Phdr);
  header.e_phnum = 1;
  Elf64_Phdr segment{};
  segment.p_type = PT_LOAD;
  segment.p_offset = kHeaders;
  segment.p_paddr = load_address;
  segment.p_filesz = code.size();
  segment.p_memsz = memory_size != 0 ? memory_size : code.size();
  std::memcpy(image.data(), &header, sizeof(header));
  std::memcpy(image.data() + sizeof(header), &segment, sizeof(segment));
  if (!code.empty()) std::memcpy(image.data() + kHeaders, code.data(), code.size());
  return image;
}

}  // namespace vk::testing
