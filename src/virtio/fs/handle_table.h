// Open files and directories the guest holds (FUSE file handles).
#pragma once

#include <cstdint>
#include <unordered_map>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vk::virtio::fs {

// The virtual kinds hold no fd; a handle of one kind is never found as
// another (Get), so a host op handed a virtual fh fails with EBADF.
enum class HandleKind { kFile, kDirectory, kVirtualFile, kVirtualDirectory };

struct HostHandle {
  UniqueFd fd;  // empty for the virtual kinds
  HandleKind kind = HandleKind::kFile;
  uint64_t node = 0;  // the inode it was opened from
  // Virtual kinds: the VirtualTree node, kept here because the guest may
  // forget the inode while the handle stays open.
  uint32_t virtual_node = 0;
  // A merged directory listing (host root plus virtual entries, ops_dir.cc)
  // numbers host entries by position; this remembers where the last READDIR
  // stopped (host entry `next_index` starts at getdents cookie
  // `next_cookie`) so reading on from there does not rescan the directory.
  uint64_t next_index = 0;
  int64_t next_cookie = 0;
};

class HandleTable {
 public:
  // Abuse bound: each handle is a host fd; past this a guest's OPEN fails
  // with EMFILE (like a process over RLIMIT_NOFILE) instead of starving the
  // VMM of descriptors (this, and the fd reserve of fd_reserve.h, whichever
  // comes first).
  static constexpr size_t kMaxHandles = 1 << 14;

  Result<uint64_t> Add(UniqueFd fd, HandleKind kind, uint64_t node);
  // A handle on virtual entry `virtual_node` (kind kVirtualFile or
  // kVirtualDirectory); bounded by kMaxHandles like the others.
  Result<uint64_t> AddVirtual(HandleKind kind, uint64_t node, uint32_t virtual_node);
  // The handle `fh` if it exists and is of `kind`; guest-controlled, so an
  // unknown or wrong-kind handle is EBADF.
  Result<HostHandle*> Get(uint64_t fh, HandleKind kind);
  // The same, for a handle of either kind (a host one or its virtual twin).
  Result<HostHandle*> Get(uint64_t fh, HandleKind kind, HandleKind or_kind);
  void Remove(uint64_t fh) { handles_.erase(fh); }
  void Clear() { handles_.clear(); }
  size_t size() const { return handles_.size(); }

 private:
  std::unordered_map<uint64_t, HostHandle> handles_;
  uint64_t next_ = 1;
};

}  // namespace vk::virtio::fs
