// The file tree of a stage (or image) so far, from its layers: an index of
// headers only (image::FsTree), from which COPY --from selects files, WORKDIR
// checks a directory, --chown reads /etc/passwd. File bytes are read from
// the layer tars only for what is selected.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "build/source_files.h"
#include "image/fs_tree.h"

namespace vk::build {

class StageFiles {
 public:
  // `layers`: layer tar paths, lowest first.
  static Result<std::unique_ptr<StageFiles>> Index(std::vector<std::string> layers);

  // Indexes one more layer on top (a step's new layer).
  Result<void> AddLayer(const std::string& layer);
  size_t layer_count() const { return layers_.size(); }

  // The entry at absolute or relative `path`, symlinks on the way resolved
  // inside the tree (the last one too with kFollow); nullptr when missing.
  enum class Last { kFollow, kNoFollow };
  const image::Inode* Lookup(std::string_view path, Last last = Last::kFollow);

  // `path` relative to the root with every symlink in it resolved inside the
  // tree ("lib/x" -> "usr/lib/x"); the cleaned path when it cannot be.
  std::string Resolve(std::string_view path);

  // The paths (relative, shallowest first) that `path` and its parents
  // would add to the tree, symlinks on the way resolved as the guest would:
  // {"run/secrets", "run/secrets/x"} for /run/secrets/x when only /run exists.
  std::vector<std::string> MissingPaths(std::string_view path);

  // What COPY --from=STAGE SOURCE selects (wildcards allowed); regular
  // files' bytes are extracted into `extract_dir` (an existing directory).
  Result<std::vector<SourceMatch>> Select(std::string_view source, const std::string& extract_dir);

  // A small regular file's contents (/etc/passwd), nullopt when missing.
  Result<std::optional<std::string>> ReadFile(std::string_view path, size_t max_bytes);

 private:
  explicit StageFiles(std::vector<std::string> layers);
  Result<std::vector<std::string>> ResolveParts(std::string_view path, Last last);
  void Glob(const std::vector<std::string>& parts, size_t index, std::vector<std::string>& at,
            std::vector<std::vector<std::string>>& found);
  Result<void> Extract(std::vector<SourceMatch>& matches,
                       const std::vector<std::vector<const image::Inode*>>& inodes,
                       const std::string& extract_dir);

  std::vector<std::string> layers_;
  image::FsTree tree_;
};

}  // namespace vk::build
