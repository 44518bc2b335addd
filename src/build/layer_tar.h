// LayerTar: one OCI layer (an uncompressed tar) assembled from entries in
// memory and written deterministically: entries sorted by path, the
// metadata given (owners, modes, mtimes), nothing taken from the clock or the
// host's user database. COPY/ADD and the RUN upper reader fill it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "base/result.h"
#include "image/fs_tree.h"
#include "image/store.h"

namespace vk::build {

enum class LayerData {
  kNone,      // directories, symlinks, devices, empty files
  kInline,    // bytes held in the entry (heredocs)
  kHostFile,  // a host file's bytes, read when the layer is written
};

struct LayerEntry {
  image::EntryMeta meta;  // type, permissions, owners, mtime, size, target, rdev, xattrs
  LayerData data = LayerData::kNone;
  std::string inline_bytes;
  std::string host_path;
};

// Whiteouts as the OCI image spec writes them (layer.md, "Whiteouts").
inline constexpr std::string_view kWhiteoutPrefix = ".wh.";
inline constexpr std::string_view kOpaqueWhiteout = ".wh..wh..opq";

struct LayerBlob {
  std::string digest;  // sha256 of the tar: also its diff_id (it is not compressed)
  uint64_t size = 0;
};

class LayerTar {
 public:
  // `path` is relative to the root ("usr/bin/x"), already normalized. A later
  // entry of the same path replaces the earlier one.
  void Add(std::string path, LayerEntry entry);
  // Directory entries for every missing parent of `path`, root-owned 0755
  // with mtime `mtime` (as BuildKit creates a COPY destination's parents).
  void AddParents(std::string_view path, int64_t mtime);
  // `dir/.wh.NAME`: NAME of lower layers is deleted.
  void AddWhiteout(std::string_view path);
  // `dir/.wh..wh..opq`: what lower layers have in `dir` is hidden.
  void AddOpaque(std::string_view dir);

  // Drops the entry at `path` (not what lies below it).
  void Remove(const std::string& path) { entries_.erase(path); }

  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  const std::map<std::string, LayerEntry>& entries() const { return entries_; }

  // Writes the tar to `path`.
  Result<void> WriteTo(const std::string& path) const;
  // Writes it into the store as a blob (temp file, hash, rename).
  Result<LayerBlob> Commit(image::Store& store) const;

 private:
  std::map<std::string, LayerEntry> entries_;
};

}  // namespace vk::build
