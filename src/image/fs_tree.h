// FsTree: the in-memory model of a filesystem being built from untrusted
// input (tar layers or a host directory). Every path is normalized inside the
// root before it touches the tree, so nothing can land outside it; a parent
// component that is a symlink is refused rather than followed. The tree holds
// metadata plus where each regular file's data lives (input index + entry
// ordinal); writers (ext4, tar) walk it in sorted order, which makes their
// output deterministic.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vk::image {

enum class FileType : uint8_t {
  kRegular,
  kDirectory,
  kSymlink,
  kCharDev,
  kBlockDev,
  kFifo,
  kSocket
};

// Abuse bounds for one build. Each limit names what a hostile input could
// otherwise exhaust; all are configurable through BuildOptions.
struct Limits {
  uint64_t max_entries = 2'000'000;         // tree nodes -> host memory (~200 B each)
  uint64_t max_total_bytes = 256ull << 30;  // declared file data -> image size / disk
  uint64_t max_file_size = 1ull << 40;      // one file's apparent size (ext4 max is 16 TiB)
  uint32_t max_path_bytes = 4096;           // PATH_MAX: longer paths are unusable in the guest
  uint32_t max_depth = 1024;                // nesting -> recursion depth of the writers
  uint32_t max_xattr_bytes = 3500;          // all xattrs of one inode must fit one 4K block
  uint32_t max_sparse_regions = 65536;      // sparse map size of one file -> extents
};

struct SparseRegion {
  uint64_t offset = 0;
  uint64_t length = 0;
};

// Where a regular file's bytes come from: entry `ordinal` of input `input`.
struct DataSource {
  uint32_t input = 0;
  uint64_t ordinal = 0;
};

struct Inode;

struct Dentry {
  std::shared_ptr<Inode> inode;
  uint32_t layer = 0;  // the input that last set this entry (whiteouts hide lower ones)
};

struct Inode {
  FileType type = FileType::kRegular;
  uint32_t permissions = 0644;  // the 07777 bits
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime_sec = 0;
  uint32_t mtime_nsec = 0;
  uint64_t size = 0;                 // regular files: apparent size
  std::vector<SparseRegion> sparse;  // empty: dense [0, size)
  std::string symlink_target;        // symlinks
  uint32_t rdev_major = 0;           // devices
  uint32_t rdev_minor = 0;
  std::map<std::string, std::string> xattrs;
  DataSource source;
  std::map<std::string, Dentry> children;  // directories; sorted = deterministic
  // Filled by writers.
  uint32_t nlink = 0;     // dentries referring to this inode (hard links)
  uint32_t ext4_ino = 0;  // inode number once written

  // Bytes that occupy blocks (the sparse map's data, else the size).
  uint64_t AllocatedBytes() const;
};

// Metadata of one input entry, already copied out of the archive.
struct EntryMeta {
  FileType type = FileType::kRegular;
  uint32_t permissions = 0644;
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime_sec = 0;
  uint32_t mtime_nsec = 0;
  uint64_t size = 0;
  std::vector<SparseRegion> sparse;
  std::string symlink_target;
  uint32_t rdev_major = 0;
  uint32_t rdev_minor = 0;
  std::map<std::string, std::string> xattrs;
};

// Whether `.wh.` names are OCI whiteouts (layers) or plain names (one tar).
enum class Whiteouts { kLiteral, kOci };

struct TreeStats {
  uint64_t inodes = 0;
  uint64_t directories = 0;
  uint64_t data_bytes = 0;     // allocated bytes of regular files
  uint64_t data_blocks = 0;    // 4 KiB blocks of file data, symlinks and xattrs
  uint64_t dir_blocks = 0;     // 4 KiB directory blocks
  uint64_t extent_blocks = 0;  // extent tree blocks of heavily fragmented files
  int64_t newest_mtime = 0;
};

class FsTree {
 public:
  explicit FsTree(Limits limits);

  // Splits `path` into normalized components; refuses absolute paths, `..`
  // that would leave the root, over-long names/paths and empty names.
  Result<std::vector<std::string>> Normalize(std::string_view path) const;

  // Adds or replaces the entry at `path` (tar semantics: later wins; a
  // directory merges into an existing directory).
  Result<void> Add(std::string_view path, const EntryMeta& meta, uint32_t layer, DataSource source);
  // A hard link at `path` to the regular file already at `target`.
  Result<void> AddHardLink(std::string_view path, std::string_view target, uint32_t layer);
  // Applies an OCI whiteout entry (`.wh.NAME` or `.wh..wh..opq`) of `layer`.
  Result<void> Whiteout(std::string_view path, uint32_t layer);
  // The entry at `path` (no symlink followed on the way), or nullptr.
  Inode* Find(std::string_view path);

  Inode& root() { return *root_; }
  const Inode& root() const { return *root_; }
  const Limits& limits() const { return limits_; }
  uint64_t entries_seen() const { return entries_seen_; }
  uint64_t total_bytes() const { return total_bytes_; }

  // Counts dentries per inode (Inode::nlink) and gathers sizing stats.
  TreeStats Finalize();

 private:
  Result<Inode*> ParentDir(const std::vector<std::string>& parts, uint32_t layer,
                           std::string_view path);
  Result<void> Count(uint64_t data_bytes, std::string_view path);

  Limits limits_;
  std::shared_ptr<Inode> root_;
  uint64_t entries_seen_ = 0;
  uint64_t total_bytes_ = 0;
};

std::string_view FileTypeName(FileType type);

}  // namespace vk::image
