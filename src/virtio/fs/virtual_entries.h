// Virtual entries: read-only files and directories held in VMM memory and
// served by the FUSE server (passthrough.h, rule "Virtual entries") on top of
// a share's root, or as the whole of a share with no host directory. This is
// libkrun's overlay ("augmentfs"): krun_fs_add_overlay_file/_dir.
//
// VirtualEntry is what a caller builds (AddVirtualEntry places one by path);
// VirtualTree is the validated, flattened form one server owns.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vk::virtio::fs {

// Bounds on what a caller may build (they bound the server's memory and the
// time a lookup or merged READDIR spends on virtual names, not guest abuse:
// the tree is fixed before the guest runs).
inline constexpr size_t kMaxVirtualEntries = 4096;   // in one tree, all levels
inline constexpr size_t kMaxVirtualNameBytes = 255;  // NAME_MAX, as on the host

struct VirtualEntry {
  std::string name;  // one component: no '/', not "." or "..", no NUL
  mode_t mode = 0;   // S_IFREG or S_IFDIR plus permission bits (07777)
  // Files: the content. NOT copied: the caller keeps it alive and unchanged
  // for as long as the server exists (libkrun's contract for overlay files).
  std::span<const uint8_t> data;
  // Disappears (LOOKUP and READDIR no longer find it) after the first
  // successful LOOKUP; the inode the guest got stays readable.
  bool one_shot = false;
  std::vector<VirtualEntry> children;  // directories only
};

// Places `entry` at `path` ("a/b/c"; a leading '/' is ignored) inside the
// tree `root`: every component before the last must name a virtual
// directory already there, and the last one becomes entry.name (which must
// be empty or equal to it). Errors carry an errno, libkrun's rules:
// ENOENT a missing parent, ENOTDIR a parent that is a file, EINVAL an empty
// component, "." or "..", a NUL, a '/' in entry.name, a bad mode or a file
// with children; also EEXIST a name already there, ENAMETOOLONG a component
// over kMaxVirtualNameBytes, ENOSPC past kMaxVirtualEntries.
Result<void> AddVirtualEntry(std::vector<VirtualEntry>& root, std::string_view path,
                             VirtualEntry entry);

// The flattened tree a server serves. Node 0 (kRoot) is a synthetic
// directory holding the top-level entries: it is the share's root when there
// is no host directory, and otherwise what overlays the host root.
class VirtualTree {
 public:
  static constexpr uint32_t kRoot = 0;
  // st_ino of node i is kInoBase + i: a range host filesystems do not hand
  // out in practice (their inode numbers stay below 2^63), so a virtual
  // entry never shares an inode number with a host file the guest sees.
  static constexpr uint64_t kInoBase = 1ull << 63;

  struct Node {
    std::string name;
    mode_t mode = 0;
    std::span<const uint8_t> data;
    bool one_shot = false;
    bool consumed = false;  // a one_shot entry that was looked up
    uint32_t parent = kRoot;
    std::vector<uint32_t> children;                        // in the order given
    std::map<std::string, uint32_t, std::less<>> by_name;  // the same, by name
  };

  // Validates `entries` (the same rules as AddVirtualEntry, and no two
  // siblings with one name) and takes a copy of everything but the file
  // data. The root is a directory of mode 0755 owned by the VMM.
  static Result<VirtualTree> Build(std::span<const VirtualEntry> entries);

  const Node& node(uint32_t index) const { return nodes_[index]; }
  size_t size() const { return nodes_.size(); }
  // No entries at all (only the synthetic root).
  bool empty() const { return nodes_.size() == 1; }
  bool IsDir(uint32_t index) const { return S_ISDIR(nodes_[index].mode); }
  // The child of directory `dir` named `name`, unless it is a consumed
  // one_shot entry.
  std::optional<uint32_t> Find(uint32_t dir, std::string_view name) const;
  bool Visible(uint32_t index) const { return !nodes_[index].consumed; }
  // Called after a successful LOOKUP: a one_shot entry disappears.
  void LookedUp(uint32_t index) {
    if (nodes_[index].one_shot) nodes_[index].consumed = true;
  }

  // Attributes: the mode given, size = data size, nlink 1 (2 for a
  // directory), the VMM's euid/egid and the tree's creation time.
  struct stat Stat(uint32_t index) const;

 private:
  Result<void> AddChildren(uint32_t parent, std::span<const VirtualEntry> entries);

  std::vector<Node> nodes_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  struct timespec created_ = {};
};

}  // namespace vk::virtio::fs
