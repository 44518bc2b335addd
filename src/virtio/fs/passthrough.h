// A passthrough FUSE server (protocol 7.31+, linux/fuse.h; no libfuse) that
// exposes one host directory. Transport-independent: virtio-fs feeds it one
// request at a time (fs_device.cc), tests and the fuzzer call it directly.
//
// Containment. Every inode is an O_PATH|O_NOFOLLOW fd; every name-based op
// is an *at() call relative to the parent's fd with a single validated
// component (no '/', not "." / ".."). Symlinks are never followed on the
// host: lookups and opens use O_NOFOLLOW, stat/chown use AT_SYMLINK_NOFOLLOW,
// so a symlink inside the share pointing at /etc/passwd stays a symlink the
// *guest* resolves (within its own view of the share). Non-directories are
// re-opened with openat(parent, name, O_NOFOLLOW) and the result is checked
// to be the same (dev, ino), never through /proc/self/fd. Lookup of ".." at
// the root returns the root. Known limit: a host process that moves a
// directory out of the share while the guest holds it lets the guest follow
// it (as with any bind mount).
//
// Identity (uid/gid mapping). None: attributes report the host file's real
// uid/gid unchanged. Objects the guest creates are created with the VMM's
// own credentials (the uid/gid in fuse_in_header are ignored), so they end
// up owned by the invoking user. SETATTR uid/gid: when the VMM runs as root
// the chown is applied (the guest is root of its own share); otherwise a
// chown of a file we own is accepted as a no-op, and EPERM for anything
// else. Guest-supplied modes never get S_ISUID, nor S_ISGID on
// non-directories, and "security.capability" cannot be set: a guest must not
// be able to plant a set-id or file-capability executable on the host.
// MKNOD of character/block devices is refused (EPERM) except the 0:0
// overlayfs whiteout, and OPEN of anything but a regular file is EACCES, so a
// guest cannot reach host devices through the share.
//
// Opening. The server has one thread per device, so no open may block: an
// open(2) of a FIFO waits for its other end, and a guest can put a FIFO (or
// a host process a device) where a regular file was. Every open the server
// does by name for the guest (CREATE, OPEN and every re-open, see
// OpenRegularAt) therefore passes O_NONBLOCK, fstat()s the result, keeps it
// only if it is a regular file (directories are opened with O_DIRECTORY,
// which cannot open anything else) and then clears O_NONBLOCK. Anything
// else is closed at once and the guest gets EACCES, the answer OPEN already
// gives for a non-regular inode (a FIFO or socket the kernel refuses itself
// keeps the kernel's ENXIO). CREATE without O_EXCL reaches an existing name
// this way too. O_NONBLOCK also makes an open that would wait for a host
// process's lease break fail with EWOULDBLOCK instead of stalling the VM.
//
// Virtual entries (virtual_entries.h). A share may carry a tree of
// read-only in-memory files and directories, fixed when the server is
// created. With no host directory the tree is the whole share: its root is a
// virtual directory (0755, the VMM's euid/egid). Otherwise the top-level
// entries overlay the host root, and only the root: LOOKUP there finds a
// virtual name before the host (it shadows a host entry of that name), and
// READDIR lists the virtual entries, then the host's minus the shadowed
// names; a virtual directory shows its own children only, never a host
// directory's. Virtual inodes take node IDs from the host inodes' counter
// (InodeTable), so an ID never names both; their attributes are synthesized
// (VirtualTree::Stat: ino in a range of their own, times = server creation),
// and host ops never see them: InodeTable::Get and HandleTable::Get refuse
// their IDs and handles (EBADF), so a path that does not know them touches
// no host fd. They are read-only whatever the share's access: every op that
// would change one, a name inside a virtual directory or a top-level virtual
// name of the root (SETATTR, CREATE, MKDIR, MKNOD, SYMLINK, LINK, UNLINK,
// RMDIR, RENAME either side, SETXATTR, REMOVEXATTR, WRITE, FALLOCATE,
// COPY_FILE_RANGE into one, OPEN for writing or with O_TRUNC) is EROFS. No
// xattrs (ENODATA, an empty list); READLINK is EINVAL; READ past the end
// returns 0 bytes. one_shot: the first successful LOOKUP consumes the name
// (with entry_valid 0, so the guest's next use of the name asks again and
// gets ENOENT, or the host entry it shadowed); READDIRPLUS lists it without
// an inode, so listing is not that lookup; the inode the guest got stays
// readable until forgotten. A consumed name stays gone across FUSE_DESTROY
// and device reset: a secret handed over once is not handed over again
// after a guest reboot. File data is not copied: it must outlive the server.
//
// Threading: not thread-safe; the device serializes calls (device.h).
#pragma once

#include <linux/fuse.h>
#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "virtio/fs/fuse_wire.h"
#include "virtio/fs/handle_table.h"
#include "virtio/fs/inode_table.h"
#include "virtio/fs/virtual_entries.h"

namespace vk::virtio::fs {

enum class Access { kReadWrite, kReadOnly };

// Abuse bounds on guest-chosen sizes (the guest learns them in FUSE_INIT).
inline constexpr uint32_t kMaxReadWrite = 1 << 20;      // one READ/WRITE payload
inline constexpr uint32_t kMaxXattrBytes = 64 << 10;    // XATTR_SIZE_MAX
inline constexpr uint64_t kMaxCopyRange = 64ull << 20;  // per COPY_FILE_RANGE, bounds time
inline constexpr uint32_t kMinMinor = 31;
// Largest request: headers + the biggest write payload.
inline constexpr size_t kMaxRequestBytes = kMaxReadWrite + 4096;

class FuseServer {
 public:
  // An empty `shared_dir` makes a share of `virtual_entries` alone (see
  // "Virtual entries" above); the entries' file data is not copied.
  static Result<std::unique_ptr<FuseServer>> Create(
      const std::string& shared_dir, Access access,
      std::span<const VirtualEntry> virtual_entries = {});

  // Handles one request (fuse_in_header + args) and writes the reply
  // (fuse_out_header + payload) into `reply`. Returns the reply length; 0
  // means no reply (FORGET, BATCH_FORGET, INTERRUPT, or a request too short
  // to carry a header, or a reply buffer too small for one).
  size_t Handle(std::span<const uint8_t> request, std::span<uint8_t> reply);

  // Device reset: as after FUSE_DESTROY, the next request must be INIT.
  void Reset() {
    handles_.Clear();
    inodes_.Clear();
    initialized_ = false;
  }

  // A FUSE session is live: INIT was answered and no DESTROY or reset came.
  bool initialized() const { return initialized_; }
  size_t inode_count() const { return inodes_.size(); }
  size_t handle_count() const { return handles_.size(); }

 private:
  struct Request {
    fuse_in_header header;
    RequestReader args;
    ReplyWriter& reply;
  };
  using Op = Result<void> (FuseServer::*)(Request&);

  FuseServer(Access access, VirtualTree tree) : access_(access), tree_(std::move(tree)) {}
  static Op Lookup(uint32_t opcode);
  static bool Modifies(uint32_t opcode);

  // Shared helpers (passthrough.cc).
  Result<Inode*> GetInode(uint64_t id);
  Result<void> CheckWritable() const;
  Result<uint64_t> LookupName(uint64_t parent, std::string_view name);
  // Looks `name` up, appends its fuse_entry_out and returns its node ID.
  Result<uint64_t> AddEntry(Request& request, uint64_t parent, std::string_view name);
  Result<void> ReplyEntry(Request& request, uint64_t parent, std::string_view name) {
    VK_TRY(AddEntry(request, parent, name));
    return Ok();
  }
  Result<UniqueFd> Reopen(const Inode& inode, int flags);
  Result<void> ApplyOwner(const Inode& inode, const fuse_setattr_in& in);
  Result<void> Chmod(const Inode& inode, int file_fd, mode_t mode);

  Result<void> Init(Request& request);
  Result<void> Destroy(Request& request);
  // ops_entry.cc
  Result<void> DoLookup(Request& request);
  Result<void> Forget(Request& request);
  Result<void> BatchForget(Request& request);
  Result<void> GetAttr(Request& request);
  Result<void> SetAttr(Request& request);
  Result<void> ReadLink(Request& request);
  Result<void> StatFs(Request& request);
  Result<void> DoAccess(Request& request);
  Result<void> ReplyAttr(Request& request, int fd);
  // ops_namespace.cc
  Result<void> MkDir(Request& request);
  Result<void> MkNod(Request& request);
  Result<void> SymLink(Request& request);
  Result<void> Link(Request& request);
  Result<void> Unlink(Request& request);
  Result<void> RmDir(Request& request);
  Result<void> Rename(Request& request);
  Result<void> Rename2(Request& request);
  Result<void> DoRename(uint64_t old_parent, std::string_view old_name, uint64_t new_parent,
                        std::string_view new_name, uint32_t flags);
  // ops_dir.cc
  Result<void> OpenDir(Request& request);
  Result<void> ReadDir(Request& request);
  Result<void> ReadDirPlus(Request& request);
  Result<void> ReadDirCommon(Request& request, bool plus);
  Result<void> ReleaseDir(Request& request);
  Result<void> FsyncDir(Request& request);
  // ops_file.cc
  Result<void> Open(Request& request);
  Result<void> Create(Request& request);
  Result<void> Read(Request& request);
  Result<void> Write(Request& request);
  Result<void> Release(Request& request);
  Result<void> Flush(Request& request);
  Result<void> Fsync(Request& request);
  Result<void> Fallocate(Request& request);
  Result<void> Lseek(Request& request);
  Result<void> CopyFileRange(Request& request);
  // ops_xattr.cc
  Result<void> GetXattr(Request& request);
  Result<void> SetXattr(Request& request);
  Result<void> ListXattr(Request& request);
  Result<void> RemoveXattr(Request& request);
  Result<UniqueFd> XattrFd(uint64_t node, int flags);
  // ops_virtual.cc: virtual entries (the rule "Virtual entries" above).
  // The virtual directory whose children appear in directory `id`: its own
  // node for a virtual directory, the tree's root for the host root.
  std::optional<uint32_t> OverlayDir(uint64_t id) const;
  // EROFS if `parent` is virtual or `name` is a virtual entry in it.
  Result<void> CheckNotVirtual(uint64_t parent, std::string_view name) const;
  // EROFS if `id` is a virtual inode.
  Result<void> CheckHostNode(uint64_t id) const;
  // LOOKUP of a virtual name, or any name in a virtual directory; nullopt
  // when the host must answer.
  std::optional<Result<void>> LookupVirtual(Request& request, uint64_t parent,
                                            std::string_view name);
  Result<void> ReplyVirtualEntry(Request& request, uint32_t node);
  // READDIRPLUS: an entry for a virtual node (nodeid 0 for one_shot ones).
  Result<fuse_entry_out> VirtualPlusEntry(uint32_t node);
  Result<void> VirtualGetAttr(Request& request, const VirtualInode& inode);
  Result<void> VirtualOpen(Request& request, const VirtualInode& inode, uint32_t flags);
  Result<void> VirtualOpenDir(Request& request, const VirtualInode& inode);
  Result<void> VirtualRead(Request& request, const HostHandle& handle, uint64_t offset,
                           uint32_t size);
  Result<void> VirtualLseek(Request& request, const HostHandle& handle, const fuse_lseek_in& in);
  Result<void> VirtualStatFs(Request& request);
  Result<void> VirtualAccess(Request& request, const VirtualInode& inode, uint32_t mask);
  // ops_dir.cc: listings with virtual entries.
  Result<void> ReadVirtualDir(Request& request, const fuse_read_in& in, uint32_t dir, bool plus);
  Result<void> ReadMergedRoot(Request& request, const fuse_read_in& in, HostHandle& handle,
                              bool plus);

  Access access_;
  VirtualTree tree_;
  bool host_root_ = true;  // false: a share of virtual entries alone
  bool initialized_ = false;
  InodeTable inodes_;
  HandleTable handles_;
};

// Helpers shared by the ops files.
void FillAttr(const struct stat& st, fuse_attr& attr);
// Strips the set-id bits a guest may not plant on the host (see above).
mode_t GuestMode(mode_t mode, mode_t type);
// Open flags a guest may pass through to the host, plus O_NOFOLLOW|O_CLOEXEC.
int HostOpenFlags(uint32_t guest_flags);

// openat(dir, name, flags, mode) by the rule "Opening" above: never blocks,
// and returns only a regular file (else EACCES), with O_NONBLOCK cleared
// unless `flags` asked for it. `stat` receives the file's attributes.
Result<UniqueFd> OpenRegularAt(int dir, const std::string& name, int flags, mode_t mode,
                               struct stat& stat);

}  // namespace vk::virtio::fs
