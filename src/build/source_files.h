// What a COPY/ADD source names, as a list of files with their metadata:
// from the build context (with .dockerignore applied), from an earlier
// stage's or an image's layers (stage_files.h), or from an archive ADD
// unpacks. The copy planner (copy_plan.h) turns them into a layer.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "build/dockerignore.h"
#include "image/fs_tree.h"

namespace vk::build {

struct SourceFile {
  std::string rel;  // below the matched source ("" for the source itself)
  image::EntryMeta meta;
  std::string host_path;  // regular files: where the bytes are on the host
};

// One source argument's match: a file, or a directory whose contents are
// copied (the directory itself is `files[0]` with rel "").
struct SourceMatch {
  std::string name;  // the matched path, as the destination's base name uses it
  bool directory = false;
  std::vector<SourceFile> files;  // sorted by rel
};

// The build context: a host directory plus its .dockerignore.
class BuildContext {
 public:
  // `root` must be a directory; its .dockerignore (if any) is read.
  static Result<BuildContext> Open(const std::string& root);

  // The files `source` selects: a path relative to the context (a leading
  // '/' and `..` stay inside it), possibly with wildcards (filepath.Match).
  // Excluded paths are skipped; a source that selects nothing is a kUsage
  // error naming it. Symlinks are copied as symlinks, except the source
  // itself, which is followed while it stays inside the context.
  Result<std::vector<SourceMatch>> Select(std::string_view source) const;

  const std::string& root() const { return root_; }
  const DockerIgnore& ignore() const { return ignore_; }

 private:
  BuildContext(std::string root, DockerIgnore ignore)
      : root_(std::move(root)), ignore_(std::move(ignore)) {}
  Result<SourceMatch> MatchPath(const std::string& rel) const;
  Result<void> Walk(const std::string& rel, const std::string& below, SourceMatch& match) const;
  Result<void> Glob(const std::vector<std::string>& parts, size_t index, const std::string& rel,
                    std::vector<std::string>& found) const;

  std::string root_;
  DockerIgnore ignore_;
};

// Whether `text` holds filepath.Match wildcards (*, ?, [).
bool HasWildcards(std::string_view text);

// The SHA-256 (hex) of what matters to the build cache in `matches`: each
// file's name, type, mode, size, link target and content, in order. Owners
// and times on the host do not count (the layer gives its own owners; times
// change on every checkout).
Result<std::string> DigestSources(const std::vector<SourceMatch>& matches);

// lstat of `host_path` as layer metadata (root-owned: a layer never takes
// the host's owners). Kinds other than files, dirs and symlinks are kUsage.
Result<image::EntryMeta> HostMeta(const std::string& host_path);

}  // namespace vk::build
