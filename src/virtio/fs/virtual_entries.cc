#include "virtio/fs/virtual_entries.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <set>

namespace vk::virtio::fs {
namespace {

constexpr mode_t kModeBits = S_IFMT | 07777;

Error Invalid(int errno_value, std::string_view what, std::string_view name) {
  return Error("virtual entry '" + std::string(name) + "': " + std::string(what), errno_value);
}

// One path component or entry name (see AddVirtualEntry).
Result<void> CheckName(std::string_view name) {
  if (name.empty() || name == "." || name == "..") return Invalid(EINVAL, "not a name", name);
  if (name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    return Invalid(EINVAL, "a name holds no '/' or NUL", name);
  }
  if (name.size() > kMaxVirtualNameBytes) return Invalid(ENAMETOOLONG, "name too long", name);
  return Ok();
}

// The type and contents agree: a file has no children, a directory no data.
Result<void> CheckShape(const VirtualEntry& entry) {
  if ((entry.mode & ~kModeBits) != 0) return Invalid(EINVAL, "unknown mode bits", entry.name);
  if (S_ISREG(entry.mode)) {
    if (!entry.children.empty()) return Invalid(EINVAL, "a file has no children", entry.name);
    return Ok();
  }
  if (S_ISDIR(entry.mode)) {
    if (!entry.data.empty()) return Invalid(EINVAL, "a directory has no data", entry.name);
    return Ok();
  }
  return Invalid(EINVAL, "only regular files and directories", entry.name);
}

size_t CountEntries(std::span<const VirtualEntry> entries) {
  size_t count = entries.size();
  for (const VirtualEntry& entry : entries) count += CountEntries(entry.children);
  return count;
}

// Validates a whole subtree and adds its entry count to `count`.
Result<void> CheckTree(std::span<const VirtualEntry> entries, size_t& count) {
  std::set<std::string_view> seen;
  for (const VirtualEntry& entry : entries) {
    VK_TRY(CheckName(entry.name));
    VK_TRY(CheckShape(entry));
    if (!seen.insert(entry.name).second) return Invalid(EEXIST, "name given twice", entry.name);
    if (++count > kMaxVirtualEntries) {
      return Invalid(ENOSPC, "more than kMaxVirtualEntries (4096) entries", entry.name);
    }
    VK_TRY(CheckTree(entry.children, count));
  }
  return Ok();
}

}  // namespace

Result<void> AddVirtualEntry(std::vector<VirtualEntry>& root, std::string_view path,
                             VirtualEntry entry) {
  if (path.find('\0') != std::string_view::npos) return Invalid(EINVAL, "NUL in path", path);
  std::string_view rest = path.substr(std::min(path.find_first_not_of('/'), path.size()));
  std::vector<std::string_view> components;
  for (size_t start = 0;;) {
    size_t slash = rest.find('/', start);
    components.push_back(rest.substr(start, slash - start));
    VK_TRY_CTX(CheckName(components.back()), "path '" + std::string(path) + "'");
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  std::vector<VirtualEntry>* dir = &root;
  for (size_t i = 0; i + 1 < components.size(); ++i) {
    auto parent = std::find_if(dir->begin(), dir->end(),
                               [&](const VirtualEntry& e) { return e.name == components[i]; });
    if (parent == dir->end()) return Invalid(ENOENT, "no such parent directory", path);
    if (!S_ISDIR(parent->mode)) return Invalid(ENOTDIR, "parent is not a directory", path);
    dir = &parent->children;
  }
  std::string_view leaf = components.back();
  if (!entry.name.empty() && entry.name != leaf) {
    return Invalid(EINVAL, "entry name differs from the path's last component", path);
  }
  entry.name.assign(leaf);
  for (const VirtualEntry& sibling : *dir) {
    if (sibling.name == leaf) return Invalid(EEXIST, "already there", path);
  }
  // `root` is checked whole when a server is built from it; here only the
  // new subtree, and the count.
  size_t count = CountEntries(root);
  VK_TRY(CheckTree(std::span(&entry, 1), count));
  dir->push_back(std::move(entry));
  return Ok();
}

Result<VirtualTree> VirtualTree::Build(std::span<const VirtualEntry> entries) {
  VirtualTree tree;
  size_t count = 0;
  VK_TRY(CheckTree(entries, count));
  tree.nodes_.reserve(count + 1);
  tree.nodes_.push_back(Node{.name = "", .mode = S_IFDIR | 0755});
  tree.uid_ = ::geteuid();
  tree.gid_ = ::getegid();
  ::clock_gettime(CLOCK_REALTIME, &tree.created_);
  VK_TRY(tree.AddChildren(kRoot, entries));
  return tree;
}

Result<void> VirtualTree::AddChildren(uint32_t parent, std::span<const VirtualEntry> entries) {
  for (const VirtualEntry& entry : entries) {
    auto index = static_cast<uint32_t>(nodes_.size());
    nodes_.push_back(Node{.name = entry.name,
                          .mode = entry.mode,
                          .data = entry.data,
                          .one_shot = entry.one_shot,
                          .parent = parent});
    nodes_[parent].children.push_back(index);
    nodes_[parent].by_name.emplace(entry.name, index);
    // Depth is bounded by kMaxVirtualEntries (CheckTree ran first).
    VK_TRY(AddChildren(index, entry.children));
  }
  return Ok();
}

std::optional<uint32_t> VirtualTree::Find(uint32_t dir, std::string_view name) const {
  const auto& by_name = nodes_[dir].by_name;
  auto found = by_name.find(name);
  if (found == by_name.end() || !Visible(found->second)) return std::nullopt;
  return found->second;
}

struct stat VirtualTree::Stat(uint32_t index) const {
  const Node& node = nodes_[index];
  struct stat st {};
  st.st_ino = kInoBase + index;
  st.st_mode = node.mode;
  st.st_nlink = S_ISDIR(node.mode) ? 2 : 1;
  st.st_uid = uid_;
  st.st_gid = gid_;
  st.st_size = static_cast<off_t>(node.data.size());
  st.st_blksize = 4096;
  st.st_blocks = static_cast<blkcnt_t>((node.data.size() + 511) / 512);
  st.st_atim = st.st_mtim = st.st_ctim = created_;
  return st;
}

}  // namespace vk::virtio::fs
