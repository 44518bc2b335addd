// GuestMemory: the guest's physical RAM as seen by the VMM, and the only way
// device code touches it. Every access is bounds-checked against the guest
// physical layout: addresses and lengths come from the guest and are
// untrusted (guest-controlled), so a bad one yields an error, never a host
// access outside guest RAM.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>
#include <vector>

#include "base/mapped_region.h"
#include "base/result.h"
#include "base/unique_fd.h"

namespace vk {

class GuestMemory {
 public:
  // One contiguous guest-physical range backed by host memory.
  struct Range {
    uint64_t guest_address = 0;
    uint8_t* host = nullptr;  // non-owning; owned by `regions_` or the caller
    uint64_t size = 0;
  };

  GuestMemory() = default;
  GuestMemory(GuestMemory&&) = default;
  GuestMemory& operator=(GuestMemory&&) = default;

  // Allocates lazily-backed anonymous host memory for each (address, size).
  static Result<GuestMemory> Allocate(std::span<const std::pair<uint64_t, uint64_t>> layout);
  // Guest RAM backed by a memory file (a snapshot's): the ranges lie back to
  // back in the file, in layout order, mapped copy-on-write so the file is
  // never changed and clones of one snapshot share its page cache.
  static Result<GuestMemory> MapFile(std::span<const std::pair<uint64_t, uint64_t>> layout, int fd);
  // Wraps caller-owned buffers (tests, fuzzers): no ownership is taken.
  static GuestMemory Wrap(std::vector<Range> ranges);

  // The host bytes for [gpa, gpa+len), which must lie in one range.
  Result<std::span<uint8_t>> Slice(uint64_t gpa, uint64_t len) const;
  // True when [gpa, gpa+len) lies inside one range; cheap, no allocation.
  bool Contains(uint64_t gpa, uint64_t len) const { return Find(gpa, len) != nullptr; }

  template <typename T>
  Result<T> Read(uint64_t gpa) const {
    static_assert(std::is_trivially_copyable_v<T>);
    auto bytes = VK_TRY(Slice(gpa, sizeof(T)));
    T value;
    std::memcpy(&value, bytes.data(), sizeof(T));
    return value;
  }

  template <typename T>
  Result<void> Write(uint64_t gpa, const T& value) const {
    static_assert(std::is_trivially_copyable_v<T>);
    auto bytes = VK_TRY(Slice(gpa, sizeof(T)));
    std::memcpy(bytes.data(), &value, sizeof(T));
    return Ok();
  }

  Result<void> WriteBytes(uint64_t gpa, std::span<const uint8_t> data) const;
  // Asks for transparent huge pages over [gpa, gpa+len) (rounded out to 2 MiB,
  // clipped to the ranges). Best effort: a host without THP ignores it.
  void PreferHugePages(uint64_t gpa, uint64_t len) const;
  Result<void> ReadBytes(uint64_t gpa, std::span<uint8_t> out) const;

  const std::vector<Range>& ranges() const { return ranges_; }
  // MapFile's memory file (the ranges back to back from offset 0), or -1:
  // its pages the guest has not touched yet are nowhere else.
  int backing_file() const { return backing_.get(); }
  // Total bytes of guest RAM.
  uint64_t size() const;

 private:
  const Range* Find(uint64_t gpa, uint64_t len) const;

  std::vector<Range> ranges_;
  std::vector<MappedRegion> regions_;
  UniqueFd backing_;  // MapFile's file (a duplicate of the caller's descriptor)
};

}  // namespace vk
