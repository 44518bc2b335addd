// MappedRegion: sole owner of an mmap()ed range; munmaps on destruction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "base/result.h"

namespace vk {

class MappedRegion {
 public:
  MappedRegion() = default;
  MappedRegion(MappedRegion&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  MappedRegion& operator=(MappedRegion&& other) noexcept;
  MappedRegion(const MappedRegion&) = delete;
  MappedRegion& operator=(const MappedRegion&) = delete;
  ~MappedRegion();

  // Private anonymous memory that is only backed by host pages once touched
  // (MAP_NORESERVE), so a 4 GiB guest that uses 100 MiB costs ~100 MiB.
  // The start is 2 MiB-aligned so huge pages can back guest-physical 2 MiB
  // blocks (GuestMemory::PreferHugePages).
  static Result<MappedRegion> Anonymous(size_t size);
  // A copy-on-write mapping of [offset, offset+size) of fd: reads come from
  // the file (its page cache, shared by every such mapping), writes stay
  // private to this mapping and never reach the file.
  static Result<MappedRegion> PrivateFile(int fd, size_t size, off_t offset);
  // A shared read-only or read-write mapping of [offset, offset+size) of fd.
  static Result<MappedRegion> File(int fd, size_t size, bool writable, off_t offset = 0);

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  std::span<uint8_t> span() const { return {data_, size_}; }

 private:
  MappedRegion(uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace vk
