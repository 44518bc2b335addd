#include "vmm/memory_file.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "base/file_io.h"

namespace vk {
namespace {

constexpr size_t kPage = 4096;

bool IsZeroPage(const uint8_t* page) {
  const auto* words = reinterpret_cast<const uint64_t*>(page);
  for (size_t i = 0; i < kPage / sizeof(uint64_t); ++i) {
    if (words[i] != 0) return false;
  }
  return true;
}

// Writes the runs of resident, non-zero pages of one range.
Result<uint64_t> WriteRange(const GuestMemory::Range& range, int fd, off_t file_offset) {
  size_t pages = (range.size + kPage - 1) / kPage;
  std::vector<unsigned char> resident(pages);
  if (::mincore(range.host, range.size, resident.data()) != 0) {
    return Error::FromErrno("mincore guest memory");
  }
  uint64_t written = 0;
  size_t page = 0;
  while (page < pages) {
    auto wanted = [&](size_t p) {
      return (resident[p] & 1) && !IsZeroPage(range.host + p * kPage);
    };
    if (!wanted(page)) {
      ++page;
      continue;
    }
    size_t end = page + 1;
    while (end < pages && wanted(end)) ++end;
    size_t bytes = std::min<uint64_t>((end - page) * kPage, range.size - page * kPage);
    VK_TRY_CTX(WriteAllAt(fd, std::span(range.host + page * kPage, bytes),
                          file_offset + static_cast<off_t>(page * kPage)),
               "memory file");
    written += end - page;
    page = end;
  }
  return written;
}

}  // namespace

Result<MemoryFileStats> WriteMemoryFile(const GuestMemory& memory, int fd) {
  MemoryFileStats stats;
  stats.bytes_total = memory.size();
  if (::ftruncate(fd, static_cast<off_t>(stats.bytes_total)) != 0) {
    return Error::FromErrno("size memory file");
  }
  off_t offset = 0;
  for (const GuestMemory::Range& range : memory.ranges()) {
    stats.pages_written += VK_TRY(WriteRange(range, fd, offset));
    offset += static_cast<off_t>(range.size);
  }
  return stats;
}

}  // namespace vk
