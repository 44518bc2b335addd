// The instruction cache. Each step's key chains its parent's key with what
// decides its result: the instruction after expansion, the build args it
// sees and, for COPY/ADD, the digest of the files it selects. An entry
// records the state after the step (layers and config), so a hit restores it
// without running anything. Entries live in the image store
// (build-cache/<key>.json, with the blobs they use listed so `vk image rm`
// keeps them and `vk image prune` drops them: image/store.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "build/build_config.h"
#include "build/layer_tar.h"
#include "image/store.h"

namespace vk::build {

// The state of a stage after a step.
struct StageSnapshot {
  std::vector<LayerBlob> layers;  // lowest first
  BuildConfig config;
};

// Parts of a key, hashed in order with separators (so "ab","c" != "a","bc").
class CacheKey {
 public:
  explicit CacheKey(std::string_view parent);
  CacheKey& Add(std::string_view part);
  std::string Hex();  // finishes the key

 private:
  std::string material_;
};

class BuildCache {
 public:
  explicit BuildCache(image::Store& store) : store_(store) {}

  // The entry of `key` when present and every layer blob it names is intact.
  std::optional<StageSnapshot> Find(std::string_view key) const;
  Result<void> Put(std::string_view key, const StageSnapshot& snapshot);

 private:
  std::string PathOf(std::string_view key) const;
  image::Store& store_;  // not owned
};

// Entries are small (a config and a layer list); a bigger file is damage.
inline constexpr size_t kMaxCacheEntryBytes = 16 << 20;  // image/store_gc.cc has the same bound

}  // namespace vk::build
