#include "virtio/fs/passthrough.h"

#include <fcntl.h>
#include <unistd.h>

namespace vk::virtio::fs {
namespace {

// What we accept from the guest's FUSE_INIT flags (linux/fuse.h). Not
// offered: POSIX/flock locks (the guest kernel keeps them local),
// WRITEBACK_CACHE (host edits must stay visible), SETXATTR_EXT (we parse the
// 8-byte fuse_setxattr_in), SECURITY_CTX and SPLICE_*.
constexpr uint32_t kSupportedFlags = FUSE_ASYNC_READ | FUSE_ATOMIC_O_TRUNC | FUSE_BIG_WRITES |
                                     FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO |
                                     FUSE_PARALLEL_DIROPS | FUSE_MAX_PAGES | FUSE_CACHE_SYMLINKS |
                                     FUSE_AUTO_INVAL_DATA | FUSE_ASYNC_DIO;
constexpr uint16_t kMaxPages = kMaxReadWrite / 4096;
// The guest may have at most this many requests queued in the background.
constexpr uint16_t kMaxBackground = 64;

}  // namespace

Result<std::unique_ptr<FuseServer>> FuseServer::Create(
    const std::string& shared_dir, Access access, std::span<const VirtualEntry> virtual_entries) {
  VirtualTree tree = VK_TRY_CTX(VirtualTree::Build(virtual_entries), "virtual entries");
  std::unique_ptr<FuseServer> server(new FuseServer(access, std::move(tree)));
  if (shared_dir.empty()) {
    server->host_root_ = false;
    server->inodes_.SetVirtualRoot(VirtualTree::kRoot);
    return server;
  }
  int fd = ::open(shared_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error::FromErrno("open shared directory " + shared_dir);
  VK_TRY_CTX(server->inodes_.SetRoot(UniqueFd(fd)), "shared directory " + shared_dir);
  return server;
}

FuseServer::Op FuseServer::Lookup(uint32_t opcode) {
  switch (opcode) {
    case FUSE_INIT: return &FuseServer::Init;
    case FUSE_DESTROY: return &FuseServer::Destroy;
    case FUSE_LOOKUP: return &FuseServer::DoLookup;
    case FUSE_FORGET: return &FuseServer::Forget;
    case FUSE_BATCH_FORGET: return &FuseServer::BatchForget;
    case FUSE_GETATTR: return &FuseServer::GetAttr;
    case FUSE_SETATTR: return &FuseServer::SetAttr;
    case FUSE_READLINK: return &FuseServer::ReadLink;
    case FUSE_STATFS: return &FuseServer::StatFs;
    case FUSE_ACCESS: return &FuseServer::DoAccess;
    case FUSE_MKDIR: return &FuseServer::MkDir;
    case FUSE_MKNOD: return &FuseServer::MkNod;
    case FUSE_SYMLINK: return &FuseServer::SymLink;
    case FUSE_LINK: return &FuseServer::Link;
    case FUSE_UNLINK: return &FuseServer::Unlink;
    case FUSE_RMDIR: return &FuseServer::RmDir;
    case FUSE_RENAME: return &FuseServer::Rename;
    case FUSE_RENAME2: return &FuseServer::Rename2;
    case FUSE_OPENDIR: return &FuseServer::OpenDir;
    case FUSE_READDIR: return &FuseServer::ReadDir;
    case FUSE_READDIRPLUS: return &FuseServer::ReadDirPlus;
    case FUSE_RELEASEDIR: return &FuseServer::ReleaseDir;
    case FUSE_FSYNCDIR: return &FuseServer::FsyncDir;
    case FUSE_OPEN: return &FuseServer::Open;
    case FUSE_CREATE: return &FuseServer::Create;
    case FUSE_READ: return &FuseServer::Read;
    case FUSE_WRITE: return &FuseServer::Write;
    case FUSE_RELEASE: return &FuseServer::Release;
    case FUSE_FLUSH: return &FuseServer::Flush;
    case FUSE_FSYNC: return &FuseServer::Fsync;
    case FUSE_FALLOCATE: return &FuseServer::Fallocate;
    case FUSE_LSEEK: return &FuseServer::Lseek;
    case FUSE_COPY_FILE_RANGE: return &FuseServer::CopyFileRange;
    case FUSE_GETXATTR: return &FuseServer::GetXattr;
    case FUSE_SETXATTR: return &FuseServer::SetXattr;
    case FUSE_LISTXATTR: return &FuseServer::ListXattr;
    case FUSE_REMOVEXATTR: return &FuseServer::RemoveXattr;
    default: return nullptr;
  }
}

// Opcodes refused with EROFS on a read-only share. OPEN is checked by its
// flags in Open().
bool FuseServer::Modifies(uint32_t opcode) {
  switch (opcode) {
    case FUSE_SETATTR:
    case FUSE_MKDIR:
    case FUSE_MKNOD:
    case FUSE_SYMLINK:
    case FUSE_LINK:
    case FUSE_UNLINK:
    case FUSE_RMDIR:
    case FUSE_RENAME:
    case FUSE_RENAME2:
    case FUSE_CREATE:
    case FUSE_WRITE:
    case FUSE_FALLOCATE:
    case FUSE_COPY_FILE_RANGE:
    case FUSE_SETXATTR:
    case FUSE_REMOVEXATTR: return true;
    default: return false;
  }
}

size_t FuseServer::Handle(std::span<const uint8_t> bytes, std::span<uint8_t> reply_buffer) {
  RequestReader reader(bytes);
  auto header = reader.Read<fuse_in_header>();
  if (!header.ok()) return 0;  // no `unique` to answer to
  ReplyWriter reply(reply_buffer);
  const uint32_t opcode = header->opcode;
  // guest-controlled: in_header.len must cover the header and fit the bytes.
  if (header->len < sizeof(fuse_in_header) || header->len > bytes.size()) {
    return reply.Finish(header->unique, EINVAL);
  }
  auto args = bytes.subspan(sizeof(fuse_in_header), header->len - sizeof(fuse_in_header));
  Request request{*header, RequestReader(args), reply};
  const bool no_reply =
      opcode == FUSE_FORGET || opcode == FUSE_BATCH_FORGET || opcode == FUSE_INTERRUPT;
  if (no_reply) {
    // FUSE_INTERRUPT is ignored: every request completes synchronously.
    if (initialized_ && opcode != FUSE_INTERRUPT) (void)(this->*Lookup(opcode))(request);
    return 0;
  }
  int error = 0;
  Op op = Lookup(opcode);
  if (initialized_ == (opcode == FUSE_INIT)) {
    error = EIO;  // nothing before INIT, no second INIT (libfuse does the same)
  } else if (op == nullptr) {
    error = ENOSYS;
  } else if (access_ == Access::kReadOnly && Modifies(opcode)) {
    error = EROFS;
  } else if (auto result = (this->*op)(request); !result.ok()) {
    error = result.error().errno_value() != 0 ? result.error().errno_value() : EIO;
  }
  return reply.Finish(header->unique, error);
}

Result<void> FuseServer::Init(Request& request) {
  // fuse_init_in grew (flags2 in 7.36); the first 16 bytes are always there.
  auto in = VK_TRY(request.args.ReadAtLeast<fuse_init_in>(16));
  if (in.major != FUSE_KERNEL_VERSION || in.minor < kMinMinor) return Errno(EPROTO);
  fuse_init_out out{};
  out.major = FUSE_KERNEL_VERSION;
  out.minor = std::min<uint32_t>(in.minor, FUSE_KERNEL_MINOR_VERSION);
  out.max_readahead = std::min<uint32_t>(in.max_readahead, kMaxReadWrite);
  out.flags = in.flags & kSupportedFlags;
  out.max_background = kMaxBackground;
  out.congestion_threshold = kMaxBackground * 3 / 4;
  out.max_write = kMaxReadWrite;
  out.time_gran = 1;
  out.max_pages = kMaxPages;
  VK_TRY(request.reply.Append(out));
  initialized_ = true;
  return Ok();
}

Result<void> FuseServer::Destroy(Request&) {
  handles_.Clear();
  inodes_.Clear();
  initialized_ = false;
  return Ok();
}

Result<Inode*> FuseServer::GetInode(uint64_t id) {
  Inode* inode = inodes_.Get(id);
  if (inode == nullptr) return Errno(EBADF);  // guest-controlled node ID
  return inode;
}

Result<void> FuseServer::CheckWritable() const {
  if (access_ == Access::kReadOnly) return Errno(EROFS);
  return Ok();
}

Result<uint64_t> FuseServer::LookupName(uint64_t parent, std::string_view name) {
  Inode* dir = VK_TRY(GetInode(parent));
  if (dir->type != S_IFDIR) return Errno(ENOTDIR);
  std::string owned(name);
  // O_PATH|O_NOFOLLOW: a symlink is pinned as itself, never resolved.
  int fd = ::openat(dir->fd.get(), owned.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return LastErrno();
  return inodes_.Add(UniqueFd(fd), parent, name);
}

Result<uint64_t> FuseServer::AddEntry(Request& request, uint64_t parent, std::string_view name) {
  uint64_t id = VK_TRY(LookupName(parent, name));
  Inode* inode = VK_TRY(GetInode(id));
  struct stat st;
  if (::fstatat(inode->fd.get(), "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) {
    int error = errno;
    inodes_.Forget(id, 1);
    return Errno(error);
  }
  fuse_entry_out out{};
  out.nodeid = id;
  out.entry_valid = out.attr_valid = 1;  // seconds: host edits show up soon
  FillAttr(st, out.attr);
  auto appended = request.reply.Append(out);
  if (!appended.ok()) {
    inodes_.Forget(id, 1);  // the guest never learns the ID
    return std::move(appended).error();
  }
  return id;
}

Result<UniqueFd> FuseServer::Reopen(const Inode& inode, int flags) {
  flags |= O_CLOEXEC | O_NOFOLLOW | O_NOCTTY;
  flags &= ~(O_CREAT | O_EXCL | O_PATH);
  if (inode.type == S_IFDIR) {
    int fd = ::openat(inode.fd.get(), ".", flags | O_DIRECTORY);
    if (fd < 0) return LastErrno();
    return UniqueFd(fd);
  }
  if (inode.type != S_IFREG) return Errno(EOPNOTSUPP);
  // Regular files are re-opened by name in their parent; the name may have
  // been swapped on the host since, so the result must be the same object,
  // and O_TRUNC waits until that is known.
  const Inode* parent = inodes_.Get(inode.parent);
  if (parent == nullptr) return Errno(ESTALE);
  struct stat st;
  auto file = OpenRegularAt(parent->fd.get(), inode.name, flags & ~O_TRUNC, 0, st);
  if (!file.ok()) {
    int error = file.error().errno_value();
    return error == ENOENT || error == ELOOP ? Errno(ESTALE) : std::move(file).error();
  }
  if (st.st_dev != inode.dev || st.st_ino != inode.ino) return Errno(ESTALE);
  if ((flags & O_TRUNC) && ::ftruncate(file->get(), 0) != 0) return LastErrno();
  return std::move(*file);
}

Result<UniqueFd> OpenRegularAt(int dir, const std::string& name, int flags, mode_t mode,
                               struct stat& st) {
  int raw = ::openat(dir, name.c_str(), flags | O_NONBLOCK, mode);
  if (raw < 0) return LastErrno();
  UniqueFd fd(raw);
  if (::fstat(raw, &st) != 0) return LastErrno();
  if (S_ISDIR(st.st_mode)) return Errno(EISDIR);
  if (!S_ISREG(st.st_mode)) return Errno(EACCES);  // FIFO, socket or device: see "Opening"
  if (!(flags & O_NONBLOCK) && ::fcntl(raw, F_SETFL, ::fcntl(raw, F_GETFL) & ~O_NONBLOCK) != 0) {
    return LastErrno();
  }
  return fd;
}

void FillAttr(const struct stat& st, fuse_attr& attr) {
  attr.ino = st.st_ino;
  attr.size = st.st_size;
  attr.blocks = st.st_blocks;
  attr.atime = st.st_atim.tv_sec;
  attr.mtime = st.st_mtim.tv_sec;
  attr.ctime = st.st_ctim.tv_sec;
  attr.atimensec = st.st_atim.tv_nsec;
  attr.mtimensec = st.st_mtim.tv_nsec;
  attr.ctimensec = st.st_ctim.tv_nsec;
  attr.mode = st.st_mode;
  attr.nlink = st.st_nlink;
  attr.uid = st.st_uid;
  attr.gid = st.st_gid;
  attr.rdev = st.st_rdev;
  attr.blksize = st.st_blksize;
}

mode_t GuestMode(mode_t mode, mode_t type) {
  mode &= ~S_ISUID;
  if (type != S_IFDIR) mode &= ~S_ISGID;
  return mode;
}

int HostOpenFlags(uint32_t guest_flags) {
  // O_DIRECT is dropped (our buffers are not aligned; the guest page cache
  // is the one it meant to bypass), O_NOATIME needs ownership, O_CREAT/EXCL
  // only come with CREATE, O_PATH and O_DIRECTORY are ours to choose.
  constexpr uint32_t kPassed = O_ACCMODE | O_APPEND | O_TRUNC | O_SYNC | O_DSYNC;
  return static_cast<int>(guest_flags & kPassed) | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY;
}

}  // namespace vk::virtio::fs
