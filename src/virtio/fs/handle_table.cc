#include "virtio/fs/handle_table.h"

#include "virtio/fs/fd_reserve.h"
#include "virtio/fs/fuse_wire.h"

namespace vk::virtio::fs {

Result<uint64_t> HandleTable::Add(UniqueFd fd, HandleKind kind, uint64_t node) {
  if (handles_.size() >= kMaxHandles || InFdReserve(fd.get())) return Errno(EMFILE);
  uint64_t fh = next_++;  // 64-bit and never reused: a stale fh cannot alias
  handles_.emplace(fh, HostHandle{std::move(fd), kind, node});
  return fh;
}

Result<uint64_t> HandleTable::AddVirtual(HandleKind kind, uint64_t node, uint32_t virtual_node) {
  if (handles_.size() >= kMaxHandles) return Errno(EMFILE);
  uint64_t fh = next_++;
  handles_.emplace(fh, HostHandle{UniqueFd(), kind, node, virtual_node});
  return fh;
}

Result<HostHandle*> HandleTable::Get(uint64_t fh, HandleKind kind) {
  auto it = handles_.find(fh);
  if (it == handles_.end() || it->second.kind != kind) return Errno(EBADF);
  return &it->second;
}

Result<HostHandle*> HandleTable::Get(uint64_t fh, HandleKind kind, HandleKind or_kind) {
  auto it = handles_.find(fh);
  if (it == handles_.end() || (it->second.kind != kind && it->second.kind != or_kind)) {
    return Errno(EBADF);
  }
  return &it->second;
}

}  // namespace vk::virtio::fs
