// Virtual entries (passthrough.h, "Virtual entries"): lookups, attributes,
// opens and reads served from the VirtualTree in memory, and the EROFS
// guards the host ops call before touching a name or node.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <climits>

#include "virtio/fs/passthrough.h"

namespace vk::virtio::fs {

std::optional<uint32_t> FuseServer::OverlayDir(uint64_t id) const {
  if (const VirtualInode* inode = inodes_.GetVirtual(id)) {
    if (!tree_.IsDir(inode->node)) return std::nullopt;
    return inode->node;
  }
  if (id == InodeTable::kRootId && !tree_.empty()) return VirtualTree::kRoot;
  return std::nullopt;
}

Result<void> FuseServer::CheckNotVirtual(uint64_t parent, std::string_view name) const {
  if (inodes_.IsVirtual(parent)) return Errno(EROFS);
  if (auto dir = OverlayDir(parent); dir && tree_.Find(*dir, name)) return Errno(EROFS);
  return Ok();
}

Result<void> FuseServer::CheckHostNode(uint64_t id) const {
  if (inodes_.IsVirtual(id)) return Errno(EROFS);
  return Ok();
}

std::optional<Result<void>> FuseServer::LookupVirtual(Request& request, uint64_t parent,
                                                      std::string_view name) {
  if (const VirtualInode* dir = inodes_.GetVirtual(parent)) {
    const uint32_t node = dir->node;
    if (!tree_.IsDir(node)) return Result<void>(Errno(ENOTDIR));
    if (name == ".") return ReplyVirtualEntry(request, node);
    // ".." of the tree's root is the root itself (kRoot's parent is kRoot).
    if (name == "..") return ReplyVirtualEntry(request, tree_.node(node).parent);
    if (!RequestReader::IsPlainName(name)) return Result<void>(Errno(EINVAL));
    auto child = tree_.Find(node, name);
    if (!child) return Result<void>(Errno(ENOENT));
    return ReplyVirtualEntry(request, *child);
  }
  if (parent != InodeTable::kRootId || !RequestReader::IsPlainName(name)) return std::nullopt;
  auto child = tree_.Find(VirtualTree::kRoot, name);
  if (!child) return std::nullopt;  // the host's name
  return ReplyVirtualEntry(request, *child);
}

Result<void> FuseServer::ReplyVirtualEntry(Request& request, uint32_t node) {
  if (node == VirtualTree::kRoot) {
    // The tree's root is the share's root: the host's, or ID 1 itself (the
    // root is never forgotten, so it needs no reference count).
    if (host_root_) return ReplyEntry(request, InodeTable::kRootId, ".");
    fuse_entry_out out{};
    out.nodeid = InodeTable::kRootId;
    out.entry_valid = out.attr_valid = 1;
    FillAttr(tree_.Stat(node), out.attr);
    return request.reply.Append(out);
  }
  uint64_t id = VK_TRY(inodes_.AddVirtual(node));
  fuse_entry_out out{};
  out.nodeid = id;
  // A one_shot name must not be cached: the guest's next use asks again.
  out.entry_valid = tree_.node(node).one_shot ? 0 : 1;
  out.attr_valid = 1;
  FillAttr(tree_.Stat(node), out.attr);
  auto appended = request.reply.Append(out);
  if (!appended.ok()) {
    inodes_.Forget(id, 1);  // the guest never learns the ID
    return appended;
  }
  tree_.LookedUp(node);
  return Ok();
}

Result<fuse_entry_out> FuseServer::VirtualPlusEntry(uint32_t node) {
  fuse_entry_out out{};
  // nodeid 0: the guest lists the name without an inode (fs/fuse/readdir.c),
  // so READDIRPLUS never counts as a one_shot entry's lookup.
  if (tree_.node(node).one_shot) return out;
  out.nodeid = VK_TRY(inodes_.AddVirtual(node));
  out.entry_valid = out.attr_valid = 1;
  FillAttr(tree_.Stat(node), out.attr);
  return out;
}

Result<void> FuseServer::VirtualGetAttr(Request& request, const VirtualInode& inode) {
  fuse_attr_out out{};
  out.attr_valid = 1;
  FillAttr(tree_.Stat(inode.node), out.attr);
  return request.reply.Append(out);
}

Result<void> FuseServer::VirtualOpen(Request& request, const VirtualInode& inode, uint32_t flags) {
  if (tree_.IsDir(inode.node)) return Errno(EISDIR);
  if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC)) return Errno(EROFS);
  fuse_open_out out{};
  out.fh = VK_TRY(handles_.AddVirtual(HandleKind::kVirtualFile, request.header.nodeid, inode.node));
  out.open_flags = FOPEN_KEEP_CACHE;  // the content never changes
  auto appended = request.reply.Append(out);
  if (!appended.ok()) handles_.Remove(out.fh);
  return appended;
}

Result<void> FuseServer::VirtualOpenDir(Request& request, const VirtualInode& inode) {
  if (!tree_.IsDir(inode.node)) return Errno(ENOTDIR);
  fuse_open_out out{};
  out.fh =
      VK_TRY(handles_.AddVirtual(HandleKind::kVirtualDirectory, request.header.nodeid, inode.node));
  auto appended = request.reply.Append(out);
  if (!appended.ok()) handles_.Remove(out.fh);
  return appended;
}

Result<void> FuseServer::VirtualRead(Request& request, const HostHandle& handle, uint64_t offset,
                                     uint32_t size) {
  std::span<const uint8_t> data = tree_.node(handle.virtual_node).data;
  // guest-controlled offset and size: at or past the end is 0 bytes, and a
  // read never goes beyond the data, max_read or the reply buffer.
  if (offset >= data.size()) return Ok();
  size_t length = std::min<size_t>(
      {size, kMaxReadWrite, request.reply.space(), data.size() - static_cast<size_t>(offset)});
  return request.reply.Append(data.subspan(static_cast<size_t>(offset), length));
}

Result<void> FuseServer::VirtualLseek(Request& request, const HostHandle& handle,
                                      const fuse_lseek_in& in) {
  const uint64_t size = tree_.node(handle.virtual_node).data.size();
  // guest-controlled offset: results must be valid off_t values.
  if (in.offset > static_cast<uint64_t>(INT64_MAX)) return Errno(EINVAL);
  uint64_t result = 0;
  switch (in.whence) {
    case SEEK_SET:
    case SEEK_CUR: result = in.offset; break;  // a handle has no position of its own
    case SEEK_END:
      if (in.offset > static_cast<uint64_t>(INT64_MAX) - size) return Errno(EINVAL);
      result = size + in.offset;
      break;
    case SEEK_DATA:
    case SEEK_HOLE:
      // All data, no holes: as lseek(2) on a dense file.
      if (in.offset >= size) return Errno(ENXIO);
      result = in.whence == SEEK_DATA ? in.offset : size;
      break;
    default: return Errno(EINVAL);
  }
  fuse_lseek_out out{};
  out.offset = result;
  return request.reply.Append(out);
}

Result<void> FuseServer::VirtualStatFs(Request& request) {
  // Nothing on the host holds the entries; the counts are zero (df shows an
  // empty filesystem), the name limit is the tree's.
  fuse_statfs_out out{};
  out.st.bsize = out.st.frsize = 4096;
  out.st.namelen = kMaxVirtualNameBytes;
  return request.reply.Append(out);
}

Result<void> FuseServer::VirtualAccess(Request& request, const VirtualInode& inode, uint32_t mask) {
  if (mask & W_OK) return Errno(EROFS);
  struct stat st = tree_.Stat(inode.node);
  // access(2) by the caller's uid/gid against the entry's bits; root may
  // read anything and execute what anyone may.
  mode_t granted = st.st_mode & 07;
  if (request.header.uid == 0) {
    granted = R_OK | ((st.st_mode & 0111) ? X_OK : 0);
  } else if (request.header.uid == st.st_uid) {
    granted = (st.st_mode >> 6) & 07;
  } else if (request.header.gid == st.st_gid) {
    granted = (st.st_mode >> 3) & 07;
  }
  if ((mask & (R_OK | X_OK)) & ~granted) return Errno(EACCES);
  return Ok();
}

}  // namespace vk::virtio::fs
