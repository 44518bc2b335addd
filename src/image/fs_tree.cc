#include "image/fs_tree.h"

#include <fmt/format.h>

#include <algorithm>

namespace vk::image {
namespace {

constexpr uint64_t kBlock = 4096;
constexpr size_t kMaxNameBytes = 255;      // ext4 dirent name_len is one byte
constexpr size_t kMaxSymlinkBytes = 4095;  // ext4: a symlink target fits one block
constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";

std::string Join(const std::vector<std::string>& parts, size_t count) {
  std::string out;
  for (size_t i = 0; i < count && i < parts.size(); ++i) {
    if (i) out += '/';
    out += parts[i];
  }
  return out;
}

std::shared_ptr<Inode> ImplicitDir() {
  auto dir = std::make_shared<Inode>();
  dir->type = FileType::kDirectory;
  dir->permissions = 0755;
  return dir;
}

void ApplyMeta(Inode& inode, const EntryMeta& meta) {
  inode.type = meta.type;
  inode.permissions = meta.permissions & 07777;
  inode.uid = meta.uid;
  inode.gid = meta.gid;
  inode.mtime_sec = meta.mtime_sec;
  inode.mtime_nsec = meta.mtime_nsec;
  inode.size = meta.type == FileType::kRegular ? meta.size : 0;
  inode.sparse = meta.type == FileType::kRegular ? meta.sparse : std::vector<SparseRegion>{};
  inode.symlink_target = meta.symlink_target;
  inode.rdev_major = meta.rdev_major;
  inode.rdev_minor = meta.rdev_minor;
  inode.xattrs = meta.xattrs;
}

Result<void> ValidateMeta(const EntryMeta& meta, const Limits& limits) {
  if (meta.size > limits.max_file_size)
    return Error(
        fmt::format("file size {} exceeds the limit of {} bytes", meta.size, limits.max_file_size));
  if (meta.type == FileType::kSymlink &&
      (meta.symlink_target.empty() || meta.symlink_target.size() > kMaxSymlinkBytes ||
       meta.symlink_target.find('\0') != std::string::npos))
    return Error("symlink target is empty, contains NUL or is longer than 4095 bytes");
  uint64_t xattr_bytes = 0;
  for (const auto& [name, value] : meta.xattrs) {
    if (name.empty() || name.size() > kMaxNameBytes || name.find('\0') != std::string::npos)
      return Error("xattr name is empty, contains NUL or is longer than 255 bytes");
    xattr_bytes += name.size() + value.size() + 16;
  }
  if (xattr_bytes > limits.max_xattr_bytes)
    return Error(fmt::format("xattrs take {} bytes, more than the limit of {}", xattr_bytes,
                             limits.max_xattr_bytes));
  if (meta.sparse.size() > limits.max_sparse_regions)
    return Error(fmt::format("sparse map has {} regions, more than the limit of {}",
                             meta.sparse.size(), limits.max_sparse_regions));
  uint64_t end = 0;
  for (const SparseRegion& region : meta.sparse) {
    if (region.offset < end || region.length > meta.size ||
        region.offset > meta.size - region.length)
      return Error("sparse map regions overlap, are unordered or lie beyond the file size");
    end = region.offset + region.length;
  }
  return Ok();
}

// Removes every child that came from a layer below `layer`; directories the
// layer itself re-declared keep their own entries but lose lower ones.
void PruneLower(Inode& dir, uint32_t layer) {
  for (auto it = dir.children.begin(); it != dir.children.end();) {
    if (it->second.layer < layer) {
      it = dir.children.erase(it);
      continue;
    }
    if (it->second.inode->type == FileType::kDirectory) PruneLower(*it->second.inode, layer);
    ++it;
  }
}

uint64_t DirBlocks(const Inode& dir) {
  // "." and ".." plus 8-byte headers and 4-byte aligned names; 12 bytes of
  // each block go to the metadata_csum tail.
  uint64_t bytes = 24;
  for (const auto& [name, dentry] : dir.children) bytes += 8 + ((name.size() + 3) & ~3ull);
  return std::max<uint64_t>(1, (bytes + kBlock - 13) / (kBlock - 12) + 1);
}

}  // namespace

uint64_t Inode::AllocatedBytes() const {
  if (type != FileType::kRegular) return 0;
  if (sparse.empty()) return size;
  uint64_t total = 0;
  for (const SparseRegion& region : sparse) total += region.length;
  return total;
}

std::string_view FileTypeName(FileType type) {
  switch (type) {
    case FileType::kRegular: return "regular file";
    case FileType::kDirectory: return "directory";
    case FileType::kSymlink: return "symlink";
    case FileType::kCharDev: return "character device";
    case FileType::kBlockDev: return "block device";
    case FileType::kFifo: return "fifo";
    case FileType::kSocket: return "socket";
  }
  return "unknown";
}

FsTree::FsTree(Limits limits) : limits_(limits), root_(ImplicitDir()) {}

Result<std::vector<std::string>> FsTree::Normalize(std::string_view path) const {
  if (path.empty()) return Error("empty path");
  if (path.size() > limits_.max_path_bytes)
    return Error(fmt::format("path longer than {} bytes", limits_.max_path_bytes));
  // A leading '/' means the image root, as GNU tar and docker read it (umoci
  // writes such members): the empty components are skipped below, so an
  // absolute name lands inside the root and can never address the host.
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    start = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.empty()) return Error("path escapes the root through '..'");
      parts.pop_back();
      continue;
    }
    if (part.size() > kMaxNameBytes) return Error("path component longer than 255 bytes");
    if (part.find('\0') != std::string_view::npos) return Error("path contains NUL");
    parts.emplace_back(part);
  }
  if (parts.size() > limits_.max_depth)
    return Error(fmt::format("path deeper than {} levels", limits_.max_depth));
  return parts;
}

Result<void> FsTree::Count(uint64_t data_bytes, std::string_view path) {
  if (++entries_seen_ > limits_.max_entries)
    return Error(
        fmt::format("{}: more than {} entries (raise the entry limit if this is legitimate)", path,
                    limits_.max_entries));
  total_bytes_ += data_bytes;
  if (total_bytes_ > limits_.max_total_bytes)
    return Error(fmt::format("{}: file data exceeds the limit of {} bytes in total", path,
                             limits_.max_total_bytes));
  return Ok();
}

Result<Inode*> FsTree::ParentDir(const std::vector<std::string>& parts, uint32_t layer,
                                 std::string_view path) {
  Inode* dir = root_.get();
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    auto it = dir->children.find(parts[i]);
    if (it == dir->children.end()) {
      VK_TRY(Count(0, path));
      it = dir->children.emplace(parts[i], Dentry{ImplicitDir(), layer}).first;
    }
    Inode& next = *it->second.inode;
    if (next.type == FileType::kSymlink)
      return Error(fmt::format("{}: parent '{}' is a symlink; refusing to write through it", path,
                               Join(parts, i + 1)));
    if (next.type != FileType::kDirectory)
      return Error(fmt::format("{}: parent '{}' is a {}, not a directory", path, Join(parts, i + 1),
                               FileTypeName(next.type)));
    dir = &next;
  }
  return dir;
}

Result<void> FsTree::Add(std::string_view path, const EntryMeta& meta, uint32_t layer,
                         DataSource source) {
  auto parts = VK_TRY_CTX(Normalize(path), path);
  VK_TRY_CTX(ValidateMeta(meta, limits_), path);
  VK_TRY(Count(meta.type == FileType::kRegular ? meta.size : 0, path));
  if (parts.empty()) {
    if (meta.type != FileType::kDirectory)
      return Error(fmt::format("{}: the root can only be a directory", path));
    ApplyMeta(*root_, meta);
    return Ok();
  }
  Inode* parent = VK_TRY(ParentDir(parts, layer, path));
  Dentry& slot = parent->children[parts.back()];
  if (meta.type == FileType::kDirectory && slot.inode && slot.inode->type == FileType::kDirectory) {
    ApplyMeta(*slot.inode, meta);  // directories merge: children stay
  } else {
    slot.inode = std::make_shared<Inode>();
    ApplyMeta(*slot.inode, meta);
    slot.inode->source = source;
  }
  slot.layer = layer;
  return Ok();
}

Inode* FsTree::Find(std::string_view path) {
  auto parts = Normalize(path);
  if (!parts.ok()) return nullptr;
  Inode* at = root_.get();
  for (const std::string& part : *parts) {
    if (at->type != FileType::kDirectory) return nullptr;
    auto it = at->children.find(part);
    if (it == at->children.end()) return nullptr;
    at = it->second.inode.get();
  }
  return at;
}

Result<void> FsTree::AddHardLink(std::string_view path, std::string_view target, uint32_t layer) {
  auto parts = VK_TRY_CTX(Normalize(path), path);
  auto target_parts =
      VK_TRY_CTX(Normalize(target), fmt::format("{}: link target {}", path, target));
  VK_TRY(Count(0, path));
  if (parts.empty()) return Error(fmt::format("{}: the root cannot be a hard link", path));
  const Inode* dir = root_.get();
  std::shared_ptr<Inode> found;
  for (size_t i = 0; i < target_parts.size(); ++i) {
    if (dir->type != FileType::kDirectory) break;
    auto it = dir->children.find(target_parts[i]);
    if (it == dir->children.end()) break;
    if (i + 1 == target_parts.size()) found = it->second.inode;
    dir = it->second.inode.get();
  }
  if (!found || found->type != FileType::kRegular)
    return Error(fmt::format(
        "{}: hard link target '{}' is {}; only regular files already in the image can be linked",
        path, target, found ? FileTypeName(found->type) : "missing"));
  if (parts == target_parts) return Ok();
  Inode* parent = VK_TRY(ParentDir(parts, layer, path));
  parent->children[parts.back()] = Dentry{found, layer};
  return Ok();
}

Result<void> FsTree::Whiteout(std::string_view path, uint32_t layer) {
  auto parts = VK_TRY_CTX(Normalize(path), path);
  if (parts.empty() || !parts.back().starts_with(kWhiteoutPrefix))
    return Error(fmt::format("{}: not a whiteout", path));
  VK_TRY(Count(0, path));
  Inode* dir = root_.get();
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    auto it = dir->children.find(parts[i]);
    // Nothing below a missing or non-directory parent to hide.
    if (it == dir->children.end() || it->second.inode->type != FileType::kDirectory) return Ok();
    dir = it->second.inode.get();
  }
  if (parts.back() == kOpaqueMarker) {
    PruneLower(*dir, layer);
    return Ok();
  }
  std::string name = parts.back().substr(kWhiteoutPrefix.size());
  if (name.empty() || name == "." || name == "..")
    return Error(fmt::format("{}: malformed whiteout name", path));
  auto it = dir->children.find(name);
  // OCI image spec (layer.md, "Whiteouts"): a whiteout only hides lower layers.
  if (it != dir->children.end() && it->second.layer < layer) dir->children.erase(it);
  return Ok();
}

namespace {

void Tally(Inode& dir, TreeStats& stats) {
  stats.dir_blocks += DirBlocks(dir);
  for (auto& [name, dentry] : dir.children) {
    Inode& inode = *dentry.inode;
    stats.newest_mtime = std::max(stats.newest_mtime, inode.mtime_sec);
    if (inode.nlink++ > 0) continue;
    ++stats.inodes;
    if (!inode.xattrs.empty()) ++stats.data_blocks;
    if (inode.type == FileType::kSymlink && inode.symlink_target.size() >= 60) ++stats.data_blocks;
    if (inode.type == FileType::kDirectory) {
      ++stats.directories;
      Tally(inode, stats);
    } else if (inode.type == FileType::kRegular) {
      uint64_t bytes = inode.AllocatedBytes();
      stats.data_bytes += bytes;
      // Sparse regions may each straddle one extra block.
      stats.data_blocks += (bytes + kBlock - 1) / kBlock + inode.sparse.size();
      uint64_t extents = inode.sparse.size() + bytes / (kBlock * 32768) + 1;
      if (extents > 4) stats.extent_blocks += extents / 340 + 2;
    }
  }
}

void ResetLinks(Inode& dir) {
  dir.nlink = 0;
  for (auto& [name, dentry] : dir.children) {
    dentry.inode->nlink = 0;
    if (dentry.inode->type == FileType::kDirectory) ResetLinks(*dentry.inode);
  }
}

}  // namespace

TreeStats FsTree::Finalize() {
  ResetLinks(*root_);
  TreeStats stats;
  root_->nlink = 1;
  stats.inodes = 1;
  stats.directories = 1;
  stats.newest_mtime = root_->mtime_sec;
  Tally(*root_, stats);
  return stats;
}

}  // namespace vk::image
