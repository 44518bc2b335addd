#include "vmm/memory_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
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

// Marks in `resident` the pages of [offset, offset+size) of `backing` that
// hold data. A guest restored from a memory file finds the pages it has not
// touched yet there; mincore does not report them once the page cache lets
// them go, and they are not zeros.
Result<void> MarkBackingData(int backing, off_t offset, uint64_t size,
                             std::vector<unsigned char>& resident) {
  const off_t end = offset + static_cast<off_t>(size);
  for (off_t pos = offset; pos < end;) {
    off_t data = ::lseek(backing, pos, SEEK_DATA);
    if (data < 0 && errno == ENXIO) break;  // only a hole remains
    if (data < 0) return Error::FromErrno("seek to data in the guest memory file");
    if (data >= end) break;
    off_t hole = std::min(::lseek(backing, data, SEEK_HOLE), end);
    if (hole < 0) return Error::FromErrno("seek to a hole in the guest memory file");
    constexpr off_t kPageBytes = static_cast<off_t>(kPage);
    for (off_t page = (data - offset) / kPageBytes; page * kPageBytes < hole - offset; ++page) {
      resident[static_cast<size_t>(page)] |= 1;
    }
    pos = hole;
  }
  return Ok();
}

// Writes the runs of resident (or backed by `backing`), non-zero pages of
// one range.
Result<uint64_t> WriteRange(const GuestMemory::Range& range, int fd, off_t file_offset,
                            int backing) {
  size_t pages = (range.size + kPage - 1) / kPage;
  std::vector<unsigned char> resident(pages);
  if (::mincore(range.host, range.size, resident.data()) != 0) {
    return Error::FromErrno("mincore guest memory");
  }
  if (backing >= 0) VK_TRY(MarkBackingData(backing, file_offset, range.size, resident));
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
    stats.pages_written += VK_TRY(WriteRange(range, fd, offset, memory.backing_file()));
    offset += static_cast<off_t>(range.size);
  }
  return stats;
}

}  // namespace vk
