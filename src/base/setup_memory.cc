#include "base/setup_memory.h"

#include <elf.h>
#include <link.h>
#include <malloc.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

namespace vk {
namespace {

struct Collect {
  uintptr_t page = 0;
  uintptr_t vdso = 0;  // the vDSO's load address (AT_SYSINFO_EHDR)
  std::vector<AddressRange> ranges;
};

// DT_TEXTREL, or DF_TEXTREL in DT_FLAGS: the loader wrote into read-only
// segments, whose pages are then private copies that must stay.
bool HasTextRelocations(const dl_phdr_info& info) {
  for (ElfW(Half) i = 0; i < info.dlpi_phnum; ++i) {
    const ElfW(Phdr)& header = info.dlpi_phdr[i];
    if (header.p_type != PT_DYNAMIC) continue;
    const auto* entry = reinterpret_cast<const ElfW(Dyn)*>(info.dlpi_addr + header.p_vaddr);
    for (; entry->d_tag != DT_NULL; ++entry) {
      if (entry->d_tag == DT_TEXTREL) return true;
      if (entry->d_tag == DT_FLAGS && (entry->d_un.d_val & DF_TEXTREL) != 0) return true;
    }
  }
  return false;
}

int AddObject(dl_phdr_info* info, size_t, void* data) {
  auto* collect = static_cast<Collect*>(data);
  // The vDSO's program headers follow its ELF header, in its first page.
  auto headers = reinterpret_cast<uintptr_t>(info->dlpi_phdr);
  bool vdso = collect->vdso != 0 && headers - collect->vdso < collect->page;
  if (vdso || HasTextRelocations(*info)) return 0;
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& header = info->dlpi_phdr[i];
    if (header.p_type != PT_LOAD || (header.p_flags & PF_W) != 0 || header.p_memsz == 0) continue;
    // The loader maps a segment from the page holding its first byte to
    // the page holding its last; no other segment shares those pages.
    uintptr_t start = info->dlpi_addr + header.p_vaddr;
    uintptr_t end = start + header.p_memsz;
    collect->ranges.push_back(
        {start & ~(collect->page - 1), (end + collect->page - 1) & ~(collect->page - 1)});
  }
  return 0;
}

}  // namespace

std::vector<AddressRange> ReadOnlyImageRanges() {
  Collect collect;
  collect.page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  collect.vdso = static_cast<uintptr_t>(::getauxval(AT_SYSINFO_EHDR));
  ::dl_iterate_phdr(AddObject, &collect);
  return collect.ranges;
}

void FixMallocThresholds() {
  constexpr int kThreshold = 128 << 10;  // glibc's own starting value
  ::mallopt(M_MMAP_THRESHOLD, kThreshold);
  ::mallopt(M_TRIM_THRESHOLD, kThreshold);
}

void DropSetupMemory() {
  for (const AddressRange& range : ReadOnlyImageRanges()) {
    ::madvise(reinterpret_cast<void*>(range.start), range.end - range.start, MADV_DONTNEED);
  }
  ::malloc_trim(0);
}

}  // namespace vk
