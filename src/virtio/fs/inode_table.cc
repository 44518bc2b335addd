#include "virtio/fs/inode_table.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "virtio/fs/fd_reserve.h"
#include "virtio/fs/fuse_wire.h"

namespace vk::virtio::fs {
namespace {

Result<struct stat> StatFd(int fd) {
  struct stat st;
  if (::fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) return LastErrno();
  return st;
}

}  // namespace

Result<void> InodeTable::SetRoot(UniqueFd fd) {
  struct stat st = VK_TRY(StatFd(fd.get()));
  if (!S_ISDIR(st.st_mode)) return Errno(ENOTDIR);
  Clear();
  Inode root{std::move(fd), st.st_dev, st.st_ino, S_IFDIR, 1, kRootId, ""};
  by_id_.clear();
  by_key_.clear();
  root_ = &by_id_.emplace(kRootId, std::move(root)).first->second;
  by_key_[{st.st_dev, st.st_ino}] = kRootId;
  return Ok();
}

void InodeTable::SetVirtualRoot(uint32_t node) {
  Clear();
  by_id_.clear();
  by_key_.clear();
  root_ = nullptr;
  virtual_.clear();
  by_node_.clear();
  virtual_[kRootId] = VirtualInode{node, 1};
  by_node_[node] = kRootId;
}

const VirtualInode* InodeTable::GetVirtual(uint64_t id) const {
  auto it = virtual_.find(id);
  return it == virtual_.end() ? nullptr : &it->second;
}

Result<uint64_t> InodeTable::AddVirtual(uint32_t node) {
  auto found = by_node_.find(node);
  if (found != by_node_.end()) {
    ++virtual_.at(found->second).nlookup;
    return found->second;
  }
  if (size() >= kMaxInodes) return Errno(ENFILE);
  uint64_t id = next_id_++;  // the host's counter: IDs never collide
  virtual_.emplace(id, VirtualInode{node, 1});
  by_node_[node] = id;
  return id;
}

Inode* InodeTable::Get(uint64_t id) {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

Result<uint64_t> InodeTable::Add(UniqueFd fd, uint64_t parent, std::string_view name) {
  struct stat st = VK_TRY(StatFd(fd.get()));
  auto found = by_key_.find({st.st_dev, st.st_ino});
  if (found != by_key_.end()) {
    Inode& inode = by_id_.at(found->second);
    ++inode.nlookup;
    if (found->second != kRootId) {
      inode.parent = parent;
      inode.name.assign(name);
    }
    return found->second;
  }
  if (size() >= kMaxInodes || InFdReserve(fd.get())) return Errno(ENFILE);
  uint64_t id = next_id_++;
  Inode inode{std::move(fd), st.st_dev,        st.st_ino, st.st_mode & S_IFMT, 1,
              parent,        std::string(name)};
  by_id_.emplace(id, std::move(inode));
  by_key_[{st.st_dev, st.st_ino}] = id;
  return id;
}

void InodeTable::Forget(uint64_t id, uint64_t count) {
  if (id == kRootId) return;
  if (auto virt = virtual_.find(id); virt != virtual_.end()) {
    virt->second.nlookup -= std::min(count, virt->second.nlookup);
    if (virt->second.nlookup > 0) return;
    by_node_.erase(virt->second.node);
    virtual_.erase(virt);
    return;
  }
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;  // guest-controlled: unknown IDs are ignored
  Inode& inode = it->second;
  inode.nlookup -= std::min(count, inode.nlookup);
  if (inode.nlookup > 0) return;
  by_key_.erase({inode.dev, inode.ino});
  by_id_.erase(it);
}

void InodeTable::Moved(dev_t dev, ino_t ino, uint64_t parent, std::string_view name) {
  auto found = by_key_.find({dev, ino});
  if (found == by_key_.end() || found->second == kRootId) return;
  Inode& inode = by_id_.at(found->second);
  inode.parent = parent;
  inode.name.assign(name);
}

void InodeTable::Clear() {
  for (auto it = by_id_.begin(); it != by_id_.end();) {
    if (it->first == kRootId) {
      ++it;
      continue;
    }
    by_key_.erase({it->second.dev, it->second.ino});
    it = by_id_.erase(it);
  }
  for (auto it = virtual_.begin(); it != virtual_.end();) {
    if (it->first == kRootId) {
      ++it;
      continue;
    }
    by_node_.erase(it->second.node);
    it = virtual_.erase(it);
  }
}

}  // namespace vk::virtio::fs
