#include "base/sparse_copy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "base/unique_fd.h"

namespace vk {
namespace {

// copy_file_range where the kernel can (it may share blocks); read/write
// where it cannot (across filesystems on older kernels, some filesystems).
Result<void> CopyRange(int from, int to, off_t offset, uint64_t length) {
  off_t in = offset, out = offset;
  while (length > 0) {
    ssize_t copied = ::copy_file_range(from, &in, to, &out, length, 0);
    if (copied > 0) {
      length -= static_cast<uint64_t>(copied);
      continue;
    }
    if (copied == 0) return Error("the source ended early (changed while being copied?)");
    if (errno == EINTR) continue;
    if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
      return Error::FromErrno("copy_file_range");
    break;
  }
  std::vector<uint8_t> buffer(1 << 20);
  while (length > 0) {
    size_t chunk = static_cast<size_t>(std::min<uint64_t>(length, buffer.size()));
    ssize_t got = ::pread(from, buffer.data(), chunk, in);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      return got == 0 ? Error("the source ended early (changed while being copied?)")
                      : Error::FromErrno("read");
    }
    for (ssize_t done = 0; done < got;) {
      ssize_t put = ::pwrite(to, buffer.data() + done, static_cast<size_t>(got - done), out + done);
      if (put < 0 && errno == EINTR) continue;
      if (put < 0) return Error::FromErrno("write");
      done += put;
    }
    in += got, out += got;
    length -= static_cast<uint64_t>(got);
  }
  return Ok();
}

Result<void> CopyDataRegions(int from, int to, off_t size) {
  off_t pos = 0;
  while (pos < size) {
    off_t data = ::lseek(from, pos, SEEK_DATA);
    if (data < 0 && errno == ENXIO) break;  // only a hole remains
    if (data < 0) return Error::FromErrno("seek to data");
    off_t hole = ::lseek(from, data, SEEK_HOLE);
    if (hole < 0) return Error::FromErrno("seek to hole");
    VK_TRY(CopyRange(from, to, data, static_cast<uint64_t>(hole - data)));
    pos = hole;
  }
  return Ok();
}

}  // namespace

Result<void> CopySparseFile(const std::string& source, const std::string& output) {
  UniqueFd from(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
  if (!from) return Error::FromErrno("open " + source);
  struct stat st;
  if (::fstat(from.get(), &st) != 0) return Error::FromErrno("stat " + source);
  if (!S_ISREG(st.st_mode)) return Error(source + " is not a regular file");
  UniqueFd to(::open(output.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!to) return Error::FromErrno("create " + output);
  auto copied = [&]() -> Result<void> {
    if (::fchmod(to.get(), 0600) != 0) return Error::FromErrno("chmod " + output);  // any umask
    if (::ftruncate(to.get(), st.st_size) != 0) return Error::FromErrno("size " + output);
    return CopyDataRegions(from.get(), to.get(), st.st_size).Context("copy " + source);
  }();
  if (!copied.ok()) ::unlink(output.c_str());
  return copied;
}

}  // namespace vk
