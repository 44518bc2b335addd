// Open files and directories the guest holds (FUSE file handles).
#pragma once

#include <cstdint>
#include <unordered_map>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vk::virtio::fs {

enum class HandleKind { kFile, kDirectory };

struct HostHandle {
  UniqueFd fd;
  HandleKind kind = HandleKind::kFile;
  uint64_t node = 0;  // the inode it was opened from
};

class HandleTable {
 public:
  // Abuse bound: each handle is a host fd; past this a guest's OPEN fails
  // with EMFILE (like a process over RLIMIT_NOFILE) instead of starving the
  // VMM of descriptors (this, and the fd reserve of fd_reserve.h, whichever
  // comes first).
  static constexpr size_t kMaxHandles = 1 << 14;

  Result<uint64_t> Add(UniqueFd fd, HandleKind kind, uint64_t node);
  // The handle `fh` if it exists and is of `kind`; guest-controlled, so an
  // unknown or wrong-kind handle is EBADF.
  Result<HostHandle*> Get(uint64_t fh, HandleKind kind);
  void Remove(uint64_t fh) { handles_.erase(fh); }
  void Clear() { handles_.clear(); }
  size_t size() const { return handles_.size(); }

 private:
  std::unordered_map<uint64_t, HostHandle> handles_;
  uint64_t next_ = 1;
};

}  // namespace vk::virtio::fs
