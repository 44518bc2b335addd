#include "runtime/disk_check.h"

#include <fcntl.h>
#include <unistd.h>

#include "base/unique_fd.h"

namespace vk {
namespace {

constexpr off_t kSuperblockMagicOffset = 1024 + 0x38;  // ext4 superblock s_magic
constexpr uint16_t kExtMagic = 0xef53;

}  // namespace

Result<void> CheckExtDisk(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::FromErrno("cannot open disk " + path);
  uint16_t magic = 0;
  ssize_t n = ::pread(fd.get(), &magic, sizeof(magic), kSuperblockMagicOffset);
  if (n != sizeof(magic) || magic != kExtMagic) {
    return Error("disk " + path +
                 " is not an ext4 filesystem image (make one with `vk mkext` or mke2fs)");
  }
  return Ok();
}

}  // namespace vk
