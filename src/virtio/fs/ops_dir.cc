// Directory handles: OPENDIR, READDIR, READDIRPLUS, RELEASEDIR, FSYNCDIR.
// READDIR offsets are the host's getdents64 d_off cookies, so each request
// seeks to the guest's offset and the server keeps no cursor state; a
// virtual directory and a host root with virtual entries on top number their
// entries by position instead (ReadVirtualDir, ReadMergedRoot).
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

// Fills a READDIR / READDIRPLUS reply in place, one record at a time, within
// the guest's size, max_read and the reply buffer.
class DirentSink {
 public:
  DirentSink(ReplyWriter& reply, uint32_t size, bool plus)
      : reply_(reply),
        out_(reply.tail().data()),
        room_(std::min<size_t>({size, kMaxReadWrite, reply.space()})),
        plus_(plus) {}

  bool plus() const { return plus_; }
  size_t used() const { return used_; }
  bool Fits(std::string_view name) const { return used_ + RecordSize(name) <= room_; }
  // A record that Fits(); `entry` (READDIRPLUS only) precedes the dirent.
  void Put(const HostEntry& dirent, const fuse_entry_out* entry) {
    uint8_t* at = out_ + used_;
    if (plus_) {
      std::memcpy(at, entry, sizeof(*entry));
      at += sizeof(*entry);
    }
    PutDirent(at, dirent);
    used_ += RecordSize(dirent.name);
  }
  void Commit() { reply_.Commit(used_); }

 private:
  size_t RecordSize(std::string_view name) const {
    return plus_ ? FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET_DIRENTPLUS + name.size())
                 : FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + name.size());
  }

  ReplyWriter& reply_;
  uint8_t* out_;
  size_t room_;
  bool plus_;
  size_t used_ = 0;
};

// Where a merged root listing (ReadMergedRoot) is in the host directory:
// host entry `index` (counted from the start, shadowed ones included)
// starts at getdents cookie `cookie`. Positions before `base` are the
// virtual entries' slots.
struct MergeCursor {
  const VirtualTree* tree;
  uint64_t base;
  uint64_t index = 0;
  int64_t cookie = 0;
  void Advance(int64_t next_cookie) {
    ++index;
    cookie = next_cookie;
  }
};

// Lists host entries from `fd`'s position. With `merge`, offsets are
// positions (base + index + 1) and names a visible virtual entry shadows are
// left out; without, offsets are the host's cookies.
Result<void> ListHost(InodeTable& inodes, int fd, uint64_t node, DirentSink& sink,
                      MergeCursor* merge) {
  std::vector<uint8_t> buffer(kDentsBuffer);
  for (bool full = false; !full;) {
    ssize_t got = ::getdents64(fd, buffer.data(), buffer.size());
    if (got < 0) return LastErrno();
    if (got == 0) break;
    for (size_t at = 0; at < static_cast<size_t>(got) && !full;) {
      const auto* host = reinterpret_cast<const struct dirent64*>(buffer.data() + at);
      at += host->d_reclen;
      HostEntry entry{host->d_ino, static_cast<uint64_t>(host->d_off), host->d_type,
                      std::string_view(host->d_name)};
      if (merge != nullptr) {
        entry.off = merge->base + merge->index + 1;
        if (merge->tree->Find(VirtualTree::kRoot, entry.name)) {
          merge->Advance(host->d_off);  // shadowed: listed once, as the virtual entry
          continue;
        }
      }
      full = !sink.Fits(entry.name);
      if (full) break;
      fuse_entry_out entry_out{};
      if (sink.plus()) {
        auto found = LookupForPlus(inodes, fd, node, entry.name, entry_out);
        if (!found.ok() && sink.used() == 0) return std::move(found).error();
        full = !found.ok();  // inode table full: return what we have
        if (full) break;
        if (!*found) {
          if (merge != nullptr) merge->Advance(host->d_off);
          continue;
        }
      }
      sink.Put(entry, &entry_out);
      if (merge != nullptr) merge->Advance(host->d_off);
    }
  }
  return Ok();
}

// Reads and drops host entries until `merge` reaches host entry `target`
// (or the end), then leaves `fd` where that entry starts.
Result<void> SkipHost(int fd, MergeCursor& merge, uint64_t target) {
  std::vector<uint8_t> buffer(kDentsBuffer);
  while (merge.index < target) {
    ssize_t got = ::getdents64(fd, buffer.data(), buffer.size());
    if (got < 0) return LastErrno();
    if (got == 0) break;
    for (size_t at = 0; at < static_cast<size_t>(got) && merge.index < target;) {
      const auto* host = reinterpret_cast<const struct dirent64*>(buffer.data() + at);
      at += host->d_reclen;
      merge.Advance(host->d_off);
    }
  }
  if (::lseek(fd, merge.cookie, SEEK_SET) < 0) return LastErrno();
  return Ok();
}

// Puts one virtual entry's record; false when the reply is full, or the
// inode table is after at least one record (as for host entries).
template <typename PlusEntry>
Result<bool> PutVirtual(DirentSink& sink, const HostEntry& entry, PlusEntry&& plus_entry) {
  if (!sink.Fits(entry.name)) return false;
  fuse_entry_out out{};
  if (sink.plus()) {
    Result<fuse_entry_out> made = plus_entry();
    if (!made.ok()) {
      if (sink.used() == 0) return std::move(made).error();
      return false;
    }
    out = *made;
  }
  sink.Put(entry, &out);
  return true;
}

uint8_t DirType(const VirtualTree& tree, uint32_t node) {
  return tree.IsDir(node) ? DT_DIR : DT_REG;
}

}  // namespace

Result<void> FuseServer::OpenDir(Request& request) {
  VK_TRY(request.args.Read<fuse_open_in>());
  if (const VirtualInode* node = inodes_.GetVirtual(request.header.nodeid)) {
    return VirtualOpenDir(request, *node);
  }
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
  HostHandle* handle =
      VK_TRY(handles_.Get(in.fh, HandleKind::kDirectory, HandleKind::kVirtualDirectory));
  if (handle->kind == HandleKind::kVirtualDirectory) {
    return ReadVirtualDir(request, in, handle->virtual_node, plus);
  }
  if (handle->node == InodeTable::kRootId && !tree_.empty()) {
    return ReadMergedRoot(request, in, *handle, plus);
  }
  if (::lseek(handle->fd.get(), static_cast<off_t>(in.offset), SEEK_SET) < 0) return LastErrno();
  DirentSink sink(request.reply, in.size, plus);
  VK_TRY(ListHost(inodes_, handle->fd.get(), handle->node, sink, nullptr));
  sink.Commit();
  return Ok();
}

// A virtual directory by position: 0 is ".", 1 is "..", 2 + i child i.
// Each child keeps its slot when a one_shot one is gone, so offsets the
// guest holds stay valid.
Result<void> FuseServer::ReadVirtualDir(Request& request, const fuse_read_in& in, uint32_t dir,
                                        bool plus) {
  DirentSink sink(request.reply, in.size, plus);
  const VirtualTree::Node& node = tree_.node(dir);
  const uint64_t count = 2 + node.children.size();
  for (uint64_t pos = in.offset; pos < count; ++pos) {
    const bool dot = pos < 2;
    const uint32_t target = dot ? (pos == 0 ? dir : node.parent) : node.children[pos - 2];
    if (!dot && !tree_.Visible(target)) continue;
    HostEntry entry{VirtualTree::kInoBase + target, pos + 1, DirType(tree_, target),
                    dot ? std::string_view(pos == 0 ? "." : "..") : tree_.node(target).name};
    // ".." of a top-level directory is the host root when there is one.
    if (pos == 1 && target == VirtualTree::kRoot && host_root_) entry.ino = inodes_.root().ino;
    bool put = VK_TRY(PutVirtual(sink, entry, [&]() -> Result<fuse_entry_out> {
      if (dot) return fuse_entry_out{};  // nodeid 0: no lookup, as for the host
      return VirtualPlusEntry(target);
    }));
    if (!put) break;
  }
  sink.Commit();
  return Ok();
}

// The host root with virtual entries on top. Offsets are positions, not
// host cookies (a cookie could equal any small number we would pick for a
// virtual entry): positions 0 .. base-1 are the top-level virtual entries'
// slots, base + i is host entry i in getdents order. Reaching host entry i
// means reading past i entries; the handle remembers where the last call
// stopped, so a guest reading on sequentially never rescans (one seeking at
// random costs a scan of the root per READDIR: its own share's time).
Result<void> FuseServer::ReadMergedRoot(Request& request, const fuse_read_in& in,
                                        HostHandle& handle, bool plus) {
  DirentSink sink(request.reply, in.size, plus);
  const VirtualTree::Node& root = tree_.node(VirtualTree::kRoot);
  MergeCursor merge{&tree_, root.children.size()};
  for (uint64_t pos = in.offset; pos < merge.base; ++pos) {
    const uint32_t child = root.children[pos];
    if (!tree_.Visible(child)) continue;
    HostEntry entry{VirtualTree::kInoBase + child, pos + 1, DirType(tree_, child),
                    tree_.node(child).name};
    if (!VK_TRY(PutVirtual(sink, entry, [&] { return VirtualPlusEntry(child); }))) {
      sink.Commit();
      return Ok();
    }
  }
  const uint64_t target = in.offset > merge.base ? in.offset - merge.base : 0;
  if (target != 0 && target >= handle.next_index) {
    merge.index = handle.next_index;
    merge.cookie = handle.next_cookie;
  }
  if (::lseek(handle.fd.get(), merge.cookie, SEEK_SET) < 0) return LastErrno();
  VK_TRY(SkipHost(handle.fd.get(), merge, target));
  VK_TRY(ListHost(inodes_, handle.fd.get(), handle.node, sink, &merge));
  handle.next_index = merge.index;
  handle.next_cookie = merge.cookie;
  sink.Commit();
  return Ok();
}

Result<void> FuseServer::ReleaseDir(Request& request) {
  auto in = VK_TRY(request.args.Read<fuse_release_in>());
  VK_TRY(handles_.Get(in.fh, HandleKind::kDirectory, HandleKind::kVirtualDirectory));
  handles_.Remove(in.fh);
  return Ok();
}

Result<void> FuseServer::FsyncDir(Request& request) {
  auto in = VK_TRY(request.args.Read<fuse_fsync_in>());
  HostHandle* handle =
      VK_TRY(handles_.Get(in.fh, HandleKind::kDirectory, HandleKind::kVirtualDirectory));
  if (handle->kind == HandleKind::kVirtualDirectory) return Ok();  // nothing to write back
  int result = (in.fsync_flags & FUSE_FSYNC_FDATASYNC) ? ::fdatasync(handle->fd.get())
                                                       : ::fsync(handle->fd.get());
  if (result != 0) return LastErrno();
  return Ok();
}

}  // namespace vk::virtio::fs
