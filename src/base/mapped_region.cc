#include "base/mapped_region.h"

#include <sys/mman.h>

#include <cstdint>

namespace vk {

MappedRegion& MappedRegion::operator=(MappedRegion&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) ::munmap(data_, size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MappedRegion::~MappedRegion() {
  if (data_ != nullptr) ::munmap(data_, size_);
}

Result<MappedRegion> MappedRegion::Anonymous(size_t size) {
  constexpr size_t kAlign = 2 << 20;
  // Reserve an aligned window by over-mapping, then return the slack.
  size_t padded = size + kAlign;
  void* p = ::mmap(nullptr, padded, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return Error::FromErrno("mmap anonymous memory");
  auto raw = reinterpret_cast<uintptr_t>(p);
  uintptr_t start = (raw + kAlign - 1) & ~(uintptr_t{kAlign} - 1);
  if (start > raw) ::munmap(p, start - raw);
  size_t kept = (size + 4095) & ~size_t{4095};  // munmap works in whole pages
  size_t tail = raw + padded - (start + kept);
  if (tail > 0) ::munmap(reinterpret_cast<void*>(start + kept), tail);
  return MappedRegion(reinterpret_cast<uint8_t*>(start), size);
}

Result<MappedRegion> MappedRegion::PrivateFile(int fd, size_t size, off_t offset) {
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd, offset);
  if (p == MAP_FAILED) return Error::FromErrno("mmap file copy-on-write");
  return MappedRegion(static_cast<uint8_t*>(p), size);
}

Result<MappedRegion> MappedRegion::File(int fd, size_t size, bool writable, off_t offset) {
  int prot = PROT_READ | (writable ? PROT_WRITE : 0);
  void* p = ::mmap(nullptr, size, prot, MAP_SHARED, fd, offset);
  if (p == MAP_FAILED) return Error::FromErrno("mmap file");
  return MappedRegion(static_cast<uint8_t*>(p), size);
}

}  // namespace vk
