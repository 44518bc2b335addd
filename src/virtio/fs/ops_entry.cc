// Lookup, forget and attribute opcodes.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "virtio/fs/passthrough.h"

namespace vk::virtio::fs {
namespace {

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452  // Linux 6.6; not in older uapi headers
#endif

Result<void> ReplyStat(ReplyWriter& reply, const struct stat& st) {
  fuse_attr_out out{};
  out.attr_valid = 1;
  FillAttr(st, out.attr);
  return reply.Append(out);
}

}  // namespace

Result<void> FuseServer::DoLookup(Request& request) {
  std::string_view name = VK_TRY(request.args.ReadString(kMaxNameBytes));
  uint64_t parent = request.header.nodeid;
  if (auto handled = LookupVirtual(request, parent, name)) return std::move(*handled);
  if (name == "..") {
    // Never above the share: ".." of the root is the root itself.
    Inode* dir = VK_TRY(GetInode(parent));
    if (parent == InodeTable::kRootId ||
        (dir->dev == inodes_.root().dev && dir->ino == inodes_.root().ino)) {
      return ReplyEntry(request, InodeTable::kRootId, ".");
    }
    return ReplyEntry(request, parent, "..");
  }
  if (name != "." && !RequestReader::IsPlainName(name)) return Errno(EINVAL);
  return ReplyEntry(request, parent, name);
}

Result<void> FuseServer::Forget(Request& request) {
  auto in = VK_TRY(request.args.Read<fuse_forget_in>());
  inodes_.Forget(request.header.nodeid, in.nlookup);
  return Ok();
}

Result<void> FuseServer::BatchForget(Request& request) {
  auto in = VK_TRY(request.args.Read<fuse_batch_forget_in>());
  // guest-controlled count: bounded by the entries actually present.
  for (uint32_t i = 0; i < in.count; ++i) {
    auto one = request.args.Read<fuse_forget_one>();
    if (!one.ok()) break;
    inodes_.Forget(one->nodeid, one->nlookup);
  }
  return Ok();
}

Result<void> FuseServer::GetAttr(Request& request) {
  auto in = VK_TRY(request.args.Read<fuse_getattr_in>());
  struct stat st;
  if (in.getattr_flags & FUSE_GETATTR_FH) {
    HostHandle* handle = VK_TRY(handles_.Get(in.fh, HandleKind::kFile, HandleKind::kVirtualFile));
    if (handle->kind == HandleKind::kVirtualFile) {
      return VirtualGetAttr(request, VirtualInode{handle->virtual_node, 0});
    }
    if (::fstat(handle->fd.get(), &st) != 0) return LastErrno();
    return ReplyStat(request.reply, st);
  }
  if (const VirtualInode* inode = inodes_.GetVirtual(request.header.nodeid)) {
    return VirtualGetAttr(request, *inode);
  }
  return ReplyAttr(request, VK_TRY(GetInode(request.header.nodeid))->fd.get());
}

Result<void> FuseServer::ReplyAttr(Request& request, int fd) {
  struct stat st;
  if (::fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) return LastErrno();
  return ReplyStat(request.reply, st);
}

Result<void> FuseServer::ApplyOwner(const Inode& inode, const fuse_setattr_in& in) {
  uid_t uid = (in.valid & FATTR_UID) ? in.uid : static_cast<uid_t>(-1);
  gid_t gid = (in.valid & FATTR_GID) ? in.gid : static_cast<gid_t>(-1);
  if (::geteuid() == 0) {
    if (::fchownat(inode.fd.get(), "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) {
      return LastErrno();
    }
    return Ok();
  }
  // Not root: see the identity note in passthrough.h.
  struct stat st;
  if (::fstatat(inode.fd.get(), "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) {
    return LastErrno();
  }
  bool unchanged = (uid == static_cast<uid_t>(-1) || uid == st.st_uid) &&
                   (gid == static_cast<gid_t>(-1) || gid == st.st_gid);
  if (unchanged || st.st_uid == ::geteuid()) return Ok();
  return Errno(EPERM);
}

// chmod without a file handle: fchmodat2(AT_EMPTY_PATH) on the O_PATH fd
// (Linux 6.6+); on older kernels fchmod on a re-opened directory or file.
Result<void> FuseServer::Chmod(const Inode& inode, int file_fd, mode_t mode) {
  if (file_fd >= 0) return ::fchmod(file_fd, mode) == 0 ? Ok() : Result<void>(LastErrno());
  int flags = AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW;
  if (::syscall(SYS_fchmodat2, inode.fd.get(), "", mode, flags) == 0) return Ok();
  if (errno != ENOSYS) return LastErrno();
  UniqueFd fd = VK_TRY(Reopen(inode, O_RDONLY | O_NONBLOCK));
  return ::fchmod(fd.get(), mode) == 0 ? Ok() : Result<void>(LastErrno());
}

Result<void> FuseServer::SetAttr(Request& request) {
  auto in = VK_TRY(request.args.Read<fuse_setattr_in>());
  VK_TRY(CheckHostNode(request.header.nodeid));
  Inode* inode = VK_TRY(GetInode(request.header.nodeid));
  int file_fd = -1;
  if (in.valid & FATTR_FH) file_fd = VK_TRY(handles_.Get(in.fh, HandleKind::kFile))->fd.get();
  if (in.valid & FATTR_MODE) {
    VK_TRY(Chmod(*inode, file_fd, GuestMode(in.mode & 07777, inode->type)));
  }
  if (in.valid & (FATTR_UID | FATTR_GID)) VK_TRY(ApplyOwner(*inode, in));
  if (in.valid & FATTR_SIZE) {
    UniqueFd reopened;
    if (file_fd < 0) {
      if (inode->type == S_IFDIR) return Errno(EISDIR);
      if (inode->type != S_IFREG) return Errno(EINVAL);
      reopened = VK_TRY(Reopen(*inode, O_WRONLY));
    }
    int fd = file_fd >= 0 ? file_fd : reopened.get();
    if (::ftruncate(fd, static_cast<off_t>(in.size)) != 0) return LastErrno();
  }
  if (in.valid & (FATTR_ATIME | FATTR_MTIME)) {
    struct timespec times[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
    if (in.valid & FATTR_ATIME) {
      times[0] = (in.valid & FATTR_ATIME_NOW)
                     ? timespec{0, UTIME_NOW}
                     : timespec{static_cast<time_t>(in.atime), static_cast<long>(in.atimensec)};
    }
    if (in.valid & FATTR_MTIME) {
      times[1] = (in.valid & FATTR_MTIME_NOW)
                     ? timespec{0, UTIME_NOW}
                     : timespec{static_cast<time_t>(in.mtime), static_cast<long>(in.mtimensec)};
    }
    if (::utimensat(inode->fd.get(), "", times, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) {
      return LastErrno();
    }
  }
  return ReplyAttr(request, inode->fd.get());
}

Result<void> FuseServer::ReadLink(Request& request) {
  if (inodes_.IsVirtual(request.header.nodeid)) return Errno(EINVAL);  // never a symlink
  Inode* inode = VK_TRY(GetInode(request.header.nodeid));
  if (inode->type != S_IFLNK) return Errno(EINVAL);
  char target[kMaxSymlinkTarget + 1];
  ssize_t length = ::readlinkat(inode->fd.get(), "", target, sizeof(target));
  if (length < 0) return LastErrno();
  return request.reply.Append(
      std::span(reinterpret_cast<const uint8_t*>(target), static_cast<size_t>(length)));
}

Result<void> FuseServer::StatFs(Request& request) {
  int fd = -1;
  if (inodes_.IsVirtual(request.header.nodeid)) {
    if (!host_root_) return VirtualStatFs(request);
    fd = inodes_.root().fd.get();  // the filesystem the entries overlay
  } else {
    fd = VK_TRY(GetInode(request.header.nodeid))->fd.get();
  }
  struct statfs st;
  if (::fstatfs(fd, &st) != 0) return LastErrno();
  fuse_statfs_out out{};
  out.st.blocks = st.f_blocks;
  out.st.bfree = st.f_bfree;
  out.st.bavail = st.f_bavail;
  out.st.files = st.f_files;
  out.st.ffree = st.f_ffree;
  out.st.bsize = static_cast<uint32_t>(st.f_bsize);
  out.st.namelen = static_cast<uint32_t>(st.f_namelen);
  out.st.frsize = static_cast<uint32_t>(st.f_frsize);
  return request.reply.Append(out);
}

Result<void> FuseServer::DoAccess(Request& request) {
  auto in = VK_TRY(request.args.Read<fuse_access_in>());
  if (const VirtualInode* inode = inodes_.GetVirtual(request.header.nodeid)) {
    return VirtualAccess(request, *inode, in.mask);
  }
  Inode* inode = VK_TRY(GetInode(request.header.nodeid));
  int mask = static_cast<int>(in.mask & (R_OK | W_OK | X_OK));
  if ((mask & W_OK) && access_ == Access::kReadOnly) return Errno(EROFS);
  // faccessat2 takes AT_EMPTY_PATH, so the O_PATH fd itself is checked.
  if (::syscall(SYS_faccessat2, inode->fd.get(), "", mask, AT_EMPTY_PATH | AT_EACCESS) != 0) {
    return LastErrno();
  }
  return Ok();
}

}  // namespace vk::virtio::fs
