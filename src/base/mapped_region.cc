#include "base/mapped_region.h"

#include <sys/mman.h>

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
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return Error::FromErrno("mmap anonymous memory");
  return MappedRegion(static_cast<uint8_t*>(p), size);
}

Result<MappedRegion> MappedRegion::File(int fd, size_t size, bool writable, off_t offset) {
  int prot = PROT_READ | (writable ? PROT_WRITE : 0);
  void* p = ::mmap(nullptr, size, prot, MAP_SHARED, fd, offset);
  if (p == MAP_FAILED) return Error::FromErrno("mmap file");
  return MappedRegion(static_cast<uint8_t*>(p), size);
}

}  // namespace vk
