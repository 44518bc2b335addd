// File handles: OPEN, CREATE, READ, WRITE, RELEASE, FLUSH, FSYNC,
// FALLOCATE, LSEEK, COPY_FILE_RANGE.
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>

#include "virtio/fs/passthrough.h"

namespace vk::virtio::fs {
namespace {

// guest-controlled offsets become off_t: anything above INT64_MAX is EINVAL.
Result<off_t> Offset(uint64_t value) {
  if (value > static_cast<uint64_t>(INT64_MAX)) return Errno(EINVAL);
  return static_cast<off_t>(value);
}

bool Writes(int flags) { return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC); }

}  // namespace

Result<void> FuseServer::Open(Request& request) {
  auto in = VK_TRY(request.args.Read<fuse_open_in>());
  if (const VirtualInode* node = inodes_.GetVirtual(request.header.nodeid)) {
    return VirtualOpen(request, *node, in.flags);
  }
  Inode* inode = VK_TRY(GetInode(request.header.nodeid));
  if (inode->type == S_IFDIR) return Errno(EISDIR);
  // Only regular files: never a host fifo, socket or device behind a name.
  if (inode->type != S_IFREG) return Errno(EACCES);
  int flags = HostOpenFlags(in.flags);
  if (Writes(flags)) VK_TRY(CheckWritable());
  UniqueFd fd = VK_TRY(Reopen(*inode, flags));
  fuse_open_out out{};
  out.fh = VK_TRY(handles_.Add(std::move(fd), HandleKind::kFile, request.header.nodeid));
  auto appended = request.reply.Append(out);
  if (!appended.ok()) handles_.Remove(out.fh);
  return appended;
}

Result<void> FuseServer::Create(Request& request) {
  auto in = VK_TRY(request.args.Read<fuse_create_in>());
  std::string name(VK_TRY(request.args.ReadName()));
  VK_TRY(CheckNotVirtual(request.header.nodeid, name));
  Inode* dir = VK_TRY(GetInode(request.header.nodeid));
  if (dir->type != S_IFDIR) return Errno(ENOTDIR);
  // O_NOFOLLOW: a symlink already at `name` is ELOOP, never written through.
  int flags = HostOpenFlags(in.flags) | O_CREAT | static_cast<int>(in.flags & O_EXCL);
  // Without O_EXCL an existing name is opened: only a regular file will do.
  struct stat st;
  UniqueFd fd =
      VK_TRY(OpenRegularAt(dir->fd.get(), name, flags, GuestMode(in.mode & 07777, S_IFREG), st));
  uint64_t id = VK_TRY(AddEntry(request, request.header.nodeid, name));
  Inode* inode = VK_TRY(GetInode(id));
  auto fh = handles_.Add(std::move(fd), HandleKind::kFile, id);
  // The name must still be the file we opened (a host rename can race).
  if (!fh.ok() || inode->dev != st.st_dev || inode->ino != st.st_ino) {
    inodes_.Forget(id, 1);
    if (fh.ok()) handles_.Remove(*fh);
    return fh.ok() ? Errno(EIO) : std::move(fh).error();
  }
  fuse_open_out out{};
  out.fh = *fh;
  auto appended = request.reply.Append(out);
  if (!appended.ok()) {
    inodes_.Forget(id, 1);
    handles_.Remove(*fh);
  }
  return appended;
}

Result<void> FuseServer::Read(Request& request) {
  auto in = VK_TRY(request.args.Read<fuse_read_in>());
  HostHandle* handle = VK_TRY(handles_.Get(in.fh, HandleKind::kFile, HandleKind::kVirtualFile));
  if (handle->kind == HandleKind::kVirtualFile)
    return VirtualRead(request, *handle, in.offset, in.size);
  off_t offset = VK_TRY(Offset(in.offset));
  size_t size = std::min<size_t>({in.size, kMaxReadWrite, request.reply.space()});
  ssize_t got;
  do {
    got = ::pread(handle->fd.get(), request.reply.tail().data(), size, offset);
  } while (got < 0 && errno == EINTR);
  if (got < 0) return LastErrno();
  request.reply.Commit(static_cast<size_t>(got));
  return Ok();
}

Result<void> FuseServer::Write(Request& request) {
  auto in = VK_TRY(request.args.Read<fuse_write_in>());
  HostHandle* handle = VK_TRY(handles_.Get(in.fh, HandleKind::kFile, HandleKind::kVirtualFile));
  if (handle->kind == HandleKind::kVirtualFile) return Errno(EROFS);
  off_t offset = VK_TRY(Offset(in.offset));
  // guest-controlled size: must be present in the request and within max_write.
  std::span<const uint8_t> data = request.args.rest();
  if (in.size > data.size() || in.size > kMaxReadWrite) return Errno(EINVAL);
  ssize_t done;
  do {
    done = ::pwrite(handle->fd.get(), data.data(), in.size, offset);
  } while (done < 0 && errno == EINTR);
  if (done < 0) return LastErrno();
  fuse_write_out out{};
  out.size = static_cast<uint32_t>(done);
  return request.reply.Append(out);
}

Result<void> FuseServer::Release(Request& request) {
  auto in = VK_TRY(request.args.Read<fuse_release_in>());
  VK_TRY(handles_.Get(in.fh, HandleKind::kFile, HandleKind::kVirtualFile));
  handles_.Remove(in.fh);
  return Ok();
}

Result<void> FuseServer::Flush(Request& request) {
  // No host-side locks or buffers: close(2) semantics need nothing here.
  auto in = VK_TRY(request.args.Read<fuse_flush_in>());
  VK_TRY(handles_.Get(in.fh, HandleKind::kFile, HandleKind::kVirtualFile));
  return Ok();
}

Result<void> FuseServer::Fsync(Request& request) {
  auto in = VK_TRY(request.args.Read<fuse_fsync_in>());
  HostHandle* handle = VK_TRY(handles_.Get(in.fh, HandleKind::kFile, HandleKind::kVirtualFile));
  if (handle->kind == HandleKind::kVirtualFile) return Ok();  // nothing to write back
  int result = (in.fsync_flags & FUSE_FSYNC_FDATASYNC) ? ::fdatasync(handle->fd.get())
                                                       : ::fsync(handle->fd.get());
  if (result != 0) return LastErrno();
  return Ok();
}

Result<void> FuseServer::Fallocate(Request& request) {
  auto in = VK_TRY(request.args.Read<fuse_fallocate_in>());
  HostHandle* handle = VK_TRY(handles_.Get(in.fh, HandleKind::kFile, HandleKind::kVirtualFile));
  if (handle->kind == HandleKind::kVirtualFile) return Errno(EROFS);
  constexpr uint32_t kModes = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE;
  if (in.mode & ~kModes) return Errno(EOPNOTSUPP);
  off_t offset = VK_TRY(Offset(in.offset));
  off_t length = VK_TRY(Offset(in.length));
  if (::fallocate(handle->fd.get(), static_cast<int>(in.mode), offset, length) != 0) {
    return LastErrno();
  }
  return Ok();
}

Result<void> FuseServer::Lseek(Request& request) {
  auto in = VK_TRY(request.args.Read<fuse_lseek_in>());
  HostHandle* handle = VK_TRY(handles_.Get(in.fh, HandleKind::kFile, HandleKind::kVirtualFile));
  if (handle->kind == HandleKind::kVirtualFile) return VirtualLseek(request, *handle, in);
  if (in.whence != SEEK_SET && in.whence != SEEK_CUR && in.whence != SEEK_END &&
      in.whence != SEEK_DATA && in.whence != SEEK_HOLE) {
    return Errno(EINVAL);
  }
  off_t result = ::lseek(handle->fd.get(), static_cast<off_t>(in.offset), in.whence);
  if (result < 0) return LastErrno();
  fuse_lseek_out out{};
  out.offset = static_cast<uint64_t>(result);
  return request.reply.Append(out);
}

Result<void> FuseServer::CopyFileRange(Request& request) {
  auto in = VK_TRY(request.args.Read<fuse_copy_file_range_in>());
  if (in.flags != 0) return Errno(EINVAL);
  // Into a virtual file: EROFS. Out of one: EOPNOTSUPP, and the guest
  // kernel falls back to READ + WRITE (fs/fuse/file.c).
  using enum HandleKind;
  if (VK_TRY(handles_.Get(in.fh_out, kFile, kVirtualFile))->kind == kVirtualFile) {
    return Errno(EROFS);
  }
  if (VK_TRY(handles_.Get(in.fh_in, kFile, kVirtualFile))->kind == kVirtualFile) {
    return Errno(EOPNOTSUPP);
  }
  int from = VK_TRY(handles_.Get(in.fh_in, HandleKind::kFile))->fd.get();
  int to = VK_TRY(handles_.Get(in.fh_out, HandleKind::kFile))->fd.get();
  off_t off_in = VK_TRY(Offset(in.off_in));
  off_t off_out = VK_TRY(Offset(in.off_out));
  // A short copy is allowed; bounding it bounds the time one request takes.
  size_t length = std::min<uint64_t>(in.len, kMaxCopyRange);
  ssize_t done = ::copy_file_range(from, &off_in, to, &off_out, length, 0);
  if (done < 0) return LastErrno();
  fuse_write_out out{};
  out.size = static_cast<uint32_t>(done);
  return request.reply.Append(out);
}

}  // namespace vk::virtio::fs
