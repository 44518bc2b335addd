#include "base/capped_write.h"

#include <sys/stat.h>
#include <unistd.h>

#include <mutex>
#include <string>

namespace vk {
namespace {

// One write per call, as log lines are written (a short write to a regular
// file means the disk is full; the rest is lost like any log output then).
void WriteOnce(int fd, std::span<const uint8_t> bytes) {
  ssize_t ignored = ::write(fd, bytes.data(), bytes.size());
  (void)ignored;
}

}  // namespace

void WriteCapped(int fd, std::span<const uint8_t> bytes, uint64_t limit) {
  if (fd < 0 || bytes.empty()) return;
  // One lock for all files: the size check and the write must not interleave
  // with another writer's, and console output is not a hot path.
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return WriteOnce(fd, bytes);
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > limit) return;  // already truncated (the marker passed the limit)
  if (bytes.size() <= limit - size) return WriteOnce(fd, bytes);
  WriteOnce(fd, bytes.first(static_cast<size_t>(limit - size)));
  std::string marker = "\n[console output truncated at " + std::to_string(limit) + " bytes]\n";
  WriteOnce(fd, std::span(reinterpret_cast<const uint8_t*>(marker.data()), marker.size()));
}

}  // namespace vk
