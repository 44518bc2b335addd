// Opcodes that add, remove or move names: MKDIR, MKNOD, SYMLINK, LINK,
// UNLINK, RMDIR, RENAME, RENAME2. Each works on one validated component
// relative to the parent's pinned O_PATH fd.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <string>

#include "virtio/fs/passthrough.h"

namespace vk::virtio::fs {
namespace {

Result<int> DirFd(InodeTable& inodes, uint64_t id) {
  Inode* inode = inodes.Get(id);
  if (inode == nullptr) return Errno(EBADF);
  if (inode->type != S_IFDIR) return Errno(ENOTDIR);
  return inode->fd.get();
}

}  // namespace

Result<void> FuseServer::MkDir(Request& request) {
  auto in = VK_TRY(request.args.Read<fuse_mkdir_in>());
  std::string name(VK_TRY(request.args.ReadName()));
  VK_TRY(CheckNotVirtual(request.header.nodeid, name));
  int dir = VK_TRY(DirFd(inodes_, request.header.nodeid));
  if (::mkdirat(dir, name.c_str(), GuestMode(in.mode & 07777, S_IFDIR)) != 0) return LastErrno();
  return ReplyEntry(request, request.header.nodeid, name);
}

Result<void> FuseServer::MkNod(Request& request) {
  auto in = VK_TRY(request.args.Read<fuse_mknod_in>());
  std::string name(VK_TRY(request.args.ReadName()));
  VK_TRY(CheckNotVirtual(request.header.nodeid, name));
  int dir = VK_TRY(DirFd(inodes_, request.header.nodeid));
  mode_t type = in.mode & S_IFMT;
  // No host device nodes from the guest; a 0:0 char device is an overlayfs
  // whiteout and harmless.
  bool whiteout = type == S_IFCHR && in.rdev == 0;
  if (type != S_IFREG && type != S_IFIFO && type != S_IFSOCK && !whiteout) return Errno(EPERM);
  mode_t mode = type | GuestMode(in.mode & 07777, type);
  if (::mknodat(dir, name.c_str(), mode, whiteout ? makedev(0, 0) : 0) != 0) return LastErrno();
  return ReplyEntry(request, request.header.nodeid, name);
}

Result<void> FuseServer::SymLink(Request& request) {
  // Args: the new entry's name, then the target (linux fs/fuse/dir.c).
  std::string name(VK_TRY(request.args.ReadName()));
  std::string target(VK_TRY(request.args.ReadString(kMaxSymlinkTarget)));
  if (target.empty()) return Errno(ENOENT);
  VK_TRY(CheckNotVirtual(request.header.nodeid, name));
  int dir = VK_TRY(DirFd(inodes_, request.header.nodeid));
  // The target is stored, never resolved by us.
  if (::symlinkat(target.c_str(), dir, name.c_str()) != 0) return LastErrno();
  return ReplyEntry(request, request.header.nodeid, name);
}

Result<void> FuseServer::Link(Request& request) {
  auto in = VK_TRY(request.args.Read<fuse_link_in>());
  std::string name(VK_TRY(request.args.ReadName()));
  VK_TRY(CheckNotVirtual(request.header.nodeid, name));
  int dir = VK_TRY(DirFd(inodes_, request.header.nodeid));
  VK_TRY(CheckHostNode(in.oldnodeid));
  Inode* old = VK_TRY(GetInode(in.oldnodeid));
  if (old->type == S_IFDIR) return Errno(EPERM);
  if (::linkat(old->fd.get(), "", dir, name.c_str(), AT_EMPTY_PATH) != 0) {
    // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; otherwise link by the last
    // name we saw (flags 0: a symlink is linked, not followed) and check
    // that it was still the same object.
    Inode* parent = inodes_.Get(old->parent);
    if (parent == nullptr) return Errno(ESTALE);
    if (::linkat(parent->fd.get(), old->name.c_str(), dir, name.c_str(), 0) != 0) {
      return LastErrno();
    }
    struct stat st;
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_dev != old->dev ||
        st.st_ino != old->ino) {
      ::unlinkat(dir, name.c_str(), 0);
      return Errno(ESTALE);
    }
  }
  return ReplyEntry(request, request.header.nodeid, name);
}

Result<void> FuseServer::Unlink(Request& request) {
  std::string name(VK_TRY(request.args.ReadName()));
  VK_TRY(CheckNotVirtual(request.header.nodeid, name));
  int dir = VK_TRY(DirFd(inodes_, request.header.nodeid));
  if (::unlinkat(dir, name.c_str(), 0) != 0) return LastErrno();
  return Ok();
}

Result<void> FuseServer::RmDir(Request& request) {
  std::string name(VK_TRY(request.args.ReadName()));
  VK_TRY(CheckNotVirtual(request.header.nodeid, name));
  int dir = VK_TRY(DirFd(inodes_, request.header.nodeid));
  if (::unlinkat(dir, name.c_str(), AT_REMOVEDIR) != 0) return LastErrno();
  return Ok();
}

Result<void> FuseServer::Rename(Request& request) {
  auto in = VK_TRY(request.args.Read<fuse_rename_in>());
  std::string old_name(VK_TRY(request.args.ReadName()));
  std::string new_name(VK_TRY(request.args.ReadName()));
  return DoRename(request.header.nodeid, old_name, in.newdir, new_name, 0);
}

Result<void> FuseServer::Rename2(Request& request) {
  auto in = VK_TRY(request.args.Read<fuse_rename2_in>());
  std::string old_name(VK_TRY(request.args.ReadName()));
  std::string new_name(VK_TRY(request.args.ReadName()));
  return DoRename(request.header.nodeid, old_name, in.newdir, new_name, in.flags);
}

Result<void> FuseServer::DoRename(uint64_t old_parent, std::string_view old_name,
                                  uint64_t new_parent, std::string_view new_name, uint32_t flags) {
  if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) return Errno(EINVAL);
  VK_TRY(CheckNotVirtual(old_parent, old_name));
  VK_TRY(CheckNotVirtual(new_parent, new_name));
  int old_dir = VK_TRY(DirFd(inodes_, old_parent));
  int new_dir = VK_TRY(DirFd(inodes_, new_parent));
  std::string from(old_name), to(new_name);
  if (::renameat2(old_dir, from.c_str(), new_dir, to.c_str(), flags) != 0) return LastErrno();
  // Keep the names we re-open regular files by in step with the host.
  struct stat st;
  if (::fstatat(new_dir, to.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    inodes_.Moved(st.st_dev, st.st_ino, new_parent, to);
  }
  if ((flags & RENAME_EXCHANGE) &&
      ::fstatat(old_dir, from.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    inodes_.Moved(st.st_dev, st.st_ino, old_parent, from);
  }
  return Ok();
}

}  // namespace vk::virtio::fs
