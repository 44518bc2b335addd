// The server's inodes: FUSE node IDs the guest holds, each pinned by an
// O_PATH fd so later *at() calls operate on the very object the guest looked
// up, whatever happens to its name on the host. Virtual entries
// (virtual_entries.h) get node IDs from the same counter, kept apart: Get()
// never returns one, so an op that does not know them fails with EBADF.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vk::virtio::fs {

struct Inode {
  UniqueFd fd;  // O_PATH | O_NOFOLLOW: never a followed symlink
  dev_t dev = 0;
  ino_t ino = 0;
  mode_t type = 0;       // S_IFMT bits, fixed for the object's life
  uint64_t nlookup = 0;  // guest references (FUSE lookup count)
  uint64_t parent = 0;   // node ID of the directory of the last name we saw
  std::string name;      // that name; used to re-open non-directories
};

// A node ID for a virtual entry: an index into the server's VirtualTree.
struct VirtualInode {
  uint32_t node = 0;
  uint64_t nlookup = 0;
};

class InodeTable {
 public:
  static constexpr uint64_t kRootId = 1;  // FUSE_ROOT_ID
  // Abuse bound: each inode holds an fd; a guest that looks up without ever
  // forgetting gets ENFILE instead of exhausting the VMM's descriptors (this,
  // and the fd reserve of fd_reserve.h, whichever comes first).
  // Virtual inodes count against it too (they hold no fd, but memory).
  static constexpr size_t kMaxInodes = 1 << 16;

  // Takes the root directory's O_PATH fd.
  Result<void> SetRoot(UniqueFd fd);
  // A share with no host directory: the root ID names virtual node `node`.
  void SetVirtualRoot(uint32_t node);
  // Host inodes only (nullptr for a virtual or unknown ID).
  Inode* Get(uint64_t id);
  const VirtualInode* GetVirtual(uint64_t id) const;
  bool IsVirtual(uint64_t id) const { return virtual_.count(id) != 0; }
  // The host root; only when the share has a host directory.
  const Inode& root() const { return *root_; }

  // Adds one guest reference for the object `fd` refers to: an existing
  // entry for the same (dev, ino) is reused (the new fd is dropped), else a
  // new node ID is allocated. Records (parent, name) for re-opening.
  Result<uint64_t> Add(UniqueFd fd, uint64_t parent, std::string_view name);
  // Adds one guest reference to virtual node `node`, reusing its node ID.
  Result<uint64_t> AddVirtual(uint32_t node);
  // Drops `count` references; the entry goes away at zero (never the root).
  // Host and virtual IDs alike.
  void Forget(uint64_t id, uint64_t count);
  // After a rename: the entry for (dev, ino), if any, now lives at (parent, name).
  void Moved(dev_t dev, ino_t ino, uint64_t parent, std::string_view name);
  // FUSE_DESTROY: every reference but the root's is gone.
  void Clear();
  size_t size() const { return by_id_.size() + virtual_.size(); }

 private:
  std::unordered_map<uint64_t, Inode> by_id_;
  std::map<std::pair<dev_t, ino_t>, uint64_t> by_key_;
  std::unordered_map<uint64_t, VirtualInode> virtual_;
  std::unordered_map<uint32_t, uint64_t> by_node_;  // virtual node -> ID
  Inode* root_ = nullptr;
  uint64_t next_id_ = kRootId + 1;
};

}  // namespace vk::virtio::fs
