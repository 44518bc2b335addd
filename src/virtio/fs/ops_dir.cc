// Directory handles: OPENDIR, READDIR, READDIRPLUS, RELEASEDIR, FSYNCDIR.
// READDIR offsets are the host's getdents64 d_off cookies, so each request
// seeks to the guest's offset and the server keeps no cursor state.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "virtio/fs/passthrough.h"

namespace vk::virtio::fs {
namespace {

// Host dirent batch per getdents64 call.
constexpr size_t kDentsBuffer = 32 << 10;

struct HostEntry {
  uint64_t ino;
  uint64_t off;
  uint8_t type;
  std::string_view name;
};

// Writes one fuse_dirent (linux/fuse.h FUSE_DIRENT_SIZE layout) at `out`.
void PutDirent(uint8_t* out, const HostEntry& entry) {
  fuse_dirent dirent{};
  dirent.ino = entry.ino;
  dirent.off = entry.off;
  dirent.namelen = static_cast<uint32_t>(entry.name.size());
  dirent.type = entry.type;
  std::memcpy(out, &dirent, FUSE_NAME_OFFSET);
  std::memcpy(out + FUSE_NAME_OFFSET, entry.name.data(), entry.name.size());
  size_t padded = FUSE_DIRENT_SIZE(&dirent);
  std::memset(out + FUSE_NAME_OFFSET + entry.name.size(), 0,
              padded - FUSE_NAME_OFFSET - entry.name.size());
}

// READDIRPLUS looks each entry up (the guest counts it as a lookup).
// "." and ".." get nodeid 0, which the guest skips (fs/fuse/readdir.c).
// Returns false for an entry that vanished on the host meanwhile.
Result<bool> LookupForPlus(InodeTable& inodes, int dir_fd, uint64_t node, std::string_view name,
                           fuse_entry_out& out) {
  if (name == "." || name == "..") return true;
  std::string owned(name);
  int child = ::openat(dir_fd, owned.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (child < 0) return false;
  uint64_t id = VK_TRY(inodes.Add(UniqueFd(child), node, name));
  struct stat st;
  if (::fstatat(inodes.Get(id)->fd.get(), "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) {
    inodes.Forget(id, 1);
    return false;
  }
  out.nodeid = id;
  out.entry_valid = out.attr_valid = 1;
  FillAttr(st, out.attr);
  return true;
}

}  // namespace

Result<void> FuseServer::OpenDir(Request& request) {
  VK_TRY(request.args.Read<fuse_open_in>());
  Inode* inode = VK_TRY(GetInode(request.header.nodeid));
  if (inode->type != S_IFDIR) return Errno(ENOTDIR);
  UniqueFd fd = VK_TRY(Reopen(*inode, O_RDONLY));
  fuse_open_out out{};
  out.fh = VK_TRY(handles_.Add(std::move(fd), HandleKind::kDirectory, request.header.nodeid));
  auto appended = request.reply.Append(out);
  if (!appended.ok()) handles_.Remove(out.fh);
  return appended;
}

Result<void> FuseServer::ReadDir(Request& request) { return ReadDirCommon(request, false); }
Result<void> FuseServer::ReadDirPlus(Request& request) { return ReadDirCommon(request, true); }

Result<void> FuseServer::ReadDirCommon(Request& request, bool plus) {
  auto in = VK_TRY(request.args.Read<fuse_read_in>());
  HostHandle* handle = VK_TRY(handles_.Get(in.fh, HandleKind::kDirectory));
  const int fd = handle->fd.get();
  const uint64_t node = handle->node;
  const size_t room = std::min<size_t>({in.size, kMaxReadWrite, request.reply.space()});
  if (::lseek(fd, static_cast<off_t>(in.offset), SEEK_SET) < 0) return LastErrno();
  std::vector<uint8_t> buffer(kDentsBuffer);
  uint8_t* out = request.reply.tail().data();
  size_t used = 0;
  bool full = false;
  while (!full) {
    ssize_t got = ::getdents64(fd, buffer.data(), buffer.size());
    if (got < 0) return LastErrno();
    if (got == 0) break;
    for (size_t at = 0; at < static_cast<size_t>(got) && !full;) {
      const auto* host = reinterpret_cast<const struct dirent64*>(buffer.data() + at);
      at += host->d_reclen;
      HostEntry entry{host->d_ino, static_cast<uint64_t>(host->d_off), host->d_type,
                      std::string_view(host->d_name)};
      size_t size = plus ? FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET_DIRENTPLUS + entry.name.size())
                         : FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + entry.name.size());
      full = used + size > room;
      if (full) break;
      if (!plus) {
        PutDirent(out + used, entry);
        used += size;
        continue;
      }
      fuse_entry_out entry_out{};
      auto found = LookupForPlus(inodes_, fd, node, entry.name, entry_out);
      if (!found.ok() && used == 0) return std::move(found).error();
      full = !found.ok();  // inode table full: return what we have
      if (!found.ok() || !*found) continue;
      std::memcpy(out + used, &entry_out, sizeof(entry_out));
      PutDirent(out + used + sizeof(entry_out), entry);
      used += size;
    }
  }
  request.reply.Commit(used);
  return Ok();
}

Result<void> FuseServer::ReleaseDir(Request& request) {
  auto in = VK_TRY(request.args.Read<fuse_release_in>());
  VK_TRY(handles_.Get(in.fh, HandleKind::kDirectory));
  handles_.Remove(in.fh);
  return Ok();
}

Result<void> FuseServer::FsyncDir(Request& request) {
  auto in = VK_TRY(request.args.Read<fuse_fsync_in>());
  HostHandle* handle = VK_TRY(handles_.Get(in.fh, HandleKind::kDirectory));
  int result = (in.fsync_flags & FUSE_FSYNC_FDATASYNC) ? ::fdatasync(handle->fd.get())
                                                       : ::fsync(handle->fd.get());
  if (result != 0) return LastErrno();
  return Ok();
}

}  // namespace vk::virtio::fs
