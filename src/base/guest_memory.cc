#include "base/guest_memory.h"

#include <fcntl.h>
#include <sys/mman.h>

#include <algorithm>
#include <string>

#include "base/strings.h"

namespace vk {

Result<GuestMemory> GuestMemory::Allocate(std::span<const std::pair<uint64_t, uint64_t>> layout) {
  GuestMemory memory;
  for (const auto& [address, size] : layout) {
    auto region = VK_TRY_CTX(MappedRegion::Anonymous(size), "allocate guest memory");
    memory.ranges_.push_back({address, region.data(), size});
    memory.regions_.push_back(std::move(region));
  }
  return memory;
}

Result<GuestMemory> GuestMemory::MapFile(std::span<const std::pair<uint64_t, uint64_t>> layout,
                                         int fd) {
  GuestMemory memory;
  off_t offset = 0;
  for (const auto& [address, size] : layout) {
    auto region = VK_TRY_CTX(MappedRegion::PrivateFile(fd, size, offset), "map guest memory file");
    memory.ranges_.push_back({address, region.data(), size});
    memory.regions_.push_back(std::move(region));
    offset += static_cast<off_t>(size);
  }
  memory.backing_ = UniqueFd(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
  if (!memory.backing_) return Error::FromErrno("keep the guest memory file open");
  return memory;
}

GuestMemory GuestMemory::Wrap(std::vector<Range> ranges) {
  GuestMemory memory;
  memory.ranges_ = std::move(ranges);
  return memory;
}

const GuestMemory::Range* GuestMemory::Find(uint64_t gpa, uint64_t len) const {
  for (const Range& range : ranges_) {
    // Written to avoid overflow: gpa and len are guest-controlled.
    if (gpa < range.guest_address) continue;
    uint64_t offset = gpa - range.guest_address;
    if (offset > range.size || len > range.size - offset) continue;
    return &range;
  }
  return nullptr;
}

Result<std::span<uint8_t>> GuestMemory::Slice(uint64_t gpa, uint64_t len) const {
  const Range* range = Find(gpa, len);
  if (range == nullptr) {
    return Error("guest address range [0x" + ToHex(gpa) + ", +" + std::to_string(len) +
                 ") is outside guest memory");
  }
  return std::span<uint8_t>(range->host + (gpa - range->guest_address), len);
}

Result<void> GuestMemory::WriteBytes(uint64_t gpa, std::span<const uint8_t> data) const {
  auto bytes = VK_TRY(Slice(gpa, data.size()));
  if (!data.empty()) std::memcpy(bytes.data(), data.data(), data.size());
  return Ok();
}

void GuestMemory::PreferHugePages(uint64_t gpa, uint64_t len) const {
  constexpr uint64_t kHugePage = 2 << 20;
  uint64_t first = gpa & ~(kHugePage - 1);
  uint64_t last = (gpa + len + kHugePage - 1) & ~(kHugePage - 1);
  for (const Range& range : ranges_) {
    uint64_t begin = std::max(first, range.guest_address);
    uint64_t end = std::min(last, range.guest_address + range.size);
    if (begin >= end) continue;
    uint8_t* host = range.host + (begin - range.guest_address);
    // madvise needs a page-aligned start; the ranges themselves are.
    (void)::madvise(host, end - begin, MADV_HUGEPAGE);
  }
}

Result<void> GuestMemory::ReadBytes(uint64_t gpa, std::span<uint8_t> out) const {
  auto bytes = VK_TRY(Slice(gpa, out.size()));
  if (!out.empty()) std::memcpy(out.data(), bytes.data(), out.size());
  return Ok();
}

uint64_t GuestMemory::size() const {
  uint64_t total = 0;
  for (const Range& range : ranges_) total += range.size;
  return total;
}

}  // namespace vk
