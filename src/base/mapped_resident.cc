#include "base/mapped_resident.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "base/unique_fd.h"

namespace vk {
namespace {

constexpr uint64_t kPresentBit = 1ull << 63;
constexpr size_t kEntriesPerRead = 8192;  // 64 KiB of pagemap, 32 MiB of address space

}  // namespace

uint64_t CountPresentPages(std::span<const uint64_t> pagemap_entries) {
  return static_cast<uint64_t>(std::count_if(pagemap_entries.begin(), pagemap_entries.end(),
                                             [](uint64_t e) { return (e & kPresentBit) != 0; }));
}

uint64_t MappedResidentBytes(uintptr_t start, uint64_t size) {
  const auto page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  UniqueFd pagemap(::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
  if (!pagemap) return 0;
  uint64_t first = start / page, end = (start + size + page - 1) / page;
  std::vector<uint64_t> entries(kEntriesPerRead);
  uint64_t present = 0;
  for (uint64_t index = first; index < end;) {
    size_t count = static_cast<size_t>(std::min<uint64_t>(kEntriesPerRead, end - index));
    ssize_t n = ::pread(pagemap.get(), entries.data(), count * sizeof(uint64_t),
                        static_cast<off_t>(index * sizeof(uint64_t)));
    if (n <= 0) break;
    size_t got = static_cast<size_t>(n) / sizeof(uint64_t);
    present += CountPresentPages(std::span<const uint64_t>(entries.data(), got));
    index += got;
  }
  return present * page;
}

}  // namespace vk
