// Extended attributes: GETXATTR, SETXATTR, LISTXATTR, REMOVEXATTR. The
// f*xattr calls need a real fd, so directories and regular files are
// re-opened read-only (see Reopen); other types get EOPNOTSUPP.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <algorithm>
#include <string>

#include "virtio/fs/passthrough.h"

namespace vk::virtio::fs {
namespace {

constexpr size_t kMaxXattrName = 255;  // XATTR_NAME_MAX

// The 8-byte fuse_setxattr_in we parse (FUSE_COMPAT_SETXATTR_IN_SIZE):
// FUSE_SETXATTR_EXT, which adds setxattr_flags, is not negotiated.
struct SetXattrIn {
  uint32_t size;
  uint32_t flags;
};
static_assert(sizeof(SetXattrIn) == FUSE_COMPAT_SETXATTR_IN_SIZE);

Result<std::string> XattrName(RequestReader& args) {
  std::string name(VK_TRY(args.ReadString(kMaxXattrName)));
  if (name.empty()) return Errno(EINVAL);
  return name;
}

// Replies with the size (probe, size == 0) or the bytes `fill` produces.
template <typename Fill>
Result<void> ReplySized(ReplyWriter& reply, uint32_t requested, Fill&& fill) {
  if (requested == 0) {
    ssize_t needed = fill(nullptr, 0);
    if (needed < 0) return LastErrno();
    fuse_getxattr_out out{};
    out.size = static_cast<uint32_t>(needed);
    return reply.Append(out);
  }
  size_t size = std::min<size_t>({requested, kMaxXattrBytes, reply.space()});
  ssize_t got = fill(reinterpret_cast<char*>(reply.tail().data()), size);
  if (got < 0) return LastErrno();
  reply.Commit(static_cast<size_t>(got));
  return Ok();
}

}  // namespace

Result<UniqueFd> FuseServer::XattrFd(uint64_t node, int flags) {
  Inode* inode = VK_TRY(GetInode(node));
  if (inode->type != S_IFDIR && inode->type != S_IFREG) return Errno(EOPNOTSUPP);
  return Reopen(*inode, flags | O_NONBLOCK);
}

Result<void> FuseServer::GetXattr(Request& request) {
  auto in = VK_TRY(request.args.Read<fuse_getxattr_in>());
  std::string name = VK_TRY(XattrName(request.args));
  if (inodes_.IsVirtual(request.header.nodeid)) return Errno(ENODATA);  // virtual: none
  UniqueFd fd = VK_TRY(XattrFd(request.header.nodeid, O_RDONLY));
  return ReplySized(request.reply, in.size, [&](char* buffer, size_t size) {
    return ::fgetxattr(fd.get(), name.c_str(), buffer, size);
  });
}

Result<void> FuseServer::ListXattr(Request& request) {
  auto in = VK_TRY(request.args.Read<fuse_getxattr_in>());
  if (inodes_.IsVirtual(request.header.nodeid)) {
    // No xattrs: an empty list (a size probe answers 0).
    return ReplySized(request.reply, in.size, [](char*, size_t) { return ssize_t{0}; });
  }
  UniqueFd fd = VK_TRY(XattrFd(request.header.nodeid, O_RDONLY));
  return ReplySized(request.reply, in.size, [&](char* buffer, size_t size) {
    return ::flistxattr(fd.get(), buffer, size);
  });
}

Result<void> FuseServer::SetXattr(Request& request) {
  auto in = VK_TRY(request.args.Read<SetXattrIn>());
  std::string name = VK_TRY(XattrName(request.args));
  VK_TRY(CheckHostNode(request.header.nodeid));
  std::span<const uint8_t> value = request.args.rest();
  if (in.size > kMaxXattrBytes) return Errno(E2BIG);
  if (in.size > value.size()) return Errno(EINVAL);
  if (in.flags & ~static_cast<uint32_t>(XATTR_CREATE | XATTR_REPLACE)) return Errno(EINVAL);
  // File capabilities would be honoured by the host's exec (see passthrough.h).
  if (name == "security.capability") return Errno(EPERM);
  UniqueFd fd = VK_TRY(XattrFd(request.header.nodeid, O_RDONLY));
  if (::fsetxattr(fd.get(), name.c_str(), value.data(), in.size, static_cast<int>(in.flags)) != 0) {
    return LastErrno();
  }
  return Ok();
}

Result<void> FuseServer::RemoveXattr(Request& request) {
  std::string name = VK_TRY(XattrName(request.args));
  VK_TRY(CheckHostNode(request.header.nodeid));
  UniqueFd fd = VK_TRY(XattrFd(request.header.nodeid, O_RDONLY));
  if (::fremovexattr(fd.get(), name.c_str()) != 0) return LastErrno();
  return Ok();
}

}  // namespace vk::virtio::fs
