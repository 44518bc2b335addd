// Store::Prune and the image record format (store.h).
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>

#include "image/manifest.h"
#include "image/reference.h"
#include "image/scratch_template.h"
#include "image/store.h"

namespace vk::image {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Partial downloads younger than this may belong to a pull in another
// process that is waiting for its lock; older ones are abandoned.
constexpr auto kAbandonedPartialAge = std::chrono::hours(24);
// A scratch template (templates/, written by `vk run` as NAME.tmp-PID then
// renamed) takes under a second to make: an older temp was abandoned. A
// finished template of an older format is never used again.
constexpr auto kAbandonedTemplateAge = std::chrono::hours(1);

uint64_t RemoveFile(const fs::path& path) {
  std::error_code error;
  uint64_t size = fs::file_size(path, error);
  if (error) size = 0;
  return fs::remove(path, error) ? size : 0;
}

// A build cache entry holds a config and a layer list: larger is damage.
constexpr uint64_t kMaxBuildCacheEntryBytes = 16 << 20;

// The blobs a build cache entry uses ("blobs": [digest...]); an entry that
// cannot be read keeps nothing (it is a miss for the builder as well).
std::vector<std::string> CacheEntryBlobs(const fs::path& path) {
  std::error_code error;
  if (fs::file_size(path, error) > kMaxBuildCacheEntryBytes || error) return {};
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!CheckJsonDepth(text).ok()) return {};
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  std::vector<std::string> blobs;
  if (!j.is_object() || !j.contains("blobs") || !j["blobs"].is_array()) return blobs;
  for (const json& blob : j["blobs"])
    if (blob.is_string() && IsValidDigest(blob.get<std::string>()))
      blobs.push_back(blob.get<std::string>());
  return blobs;
}

}  // namespace

std::string SerializeImageRecord(const ImageRecord& r) {
  json j = {{"name", r.name},
            {"source", r.source},
            {"manifest", r.manifest_digest},
            {"config", r.config_digest},
            {"layers", r.layers},
            {"size", r.size},
            {"platform", r.platform},
            {"created", r.created}};
  return j.dump(2) + "\n";
}

Result<ImageRecord> ParseImageRecord(std::string_view text) {
  try {
    json j = json::parse(text);
    ImageRecord r;
    r.name = j.at("name").get<std::string>();
    r.source = j.value("source", "");
    r.manifest_digest = j.at("manifest").get<std::string>();
    r.config_digest = j.at("config").get<std::string>();
    r.layers = j.at("layers").get<std::vector<std::string>>();
    r.size = j.value("size", uint64_t{0});
    r.platform = j.value("platform", "");
    r.created = j.value("created", int64_t{0});
    return r;
  } catch (const json::exception& e) {
    return Error(std::string("bad image record: ") + e.what());
  }
}

Result<PruneResult> Store::Prune(BuildCachePolicy cache) {
  FileLock gc = VK_TRY(FileLock::Acquire(root_ + "/locks/gc"));
  std::set<std::string> blobs, bases;
  PruneResult result;
  std::error_code cache_error;  // build-cache/ is missing in stores made before it
  for (const auto& entry : fs::directory_iterator(BuildCacheDir(), cache_error)) {
    if (cache == BuildCachePolicy::kDrop) {
      RemoveFile(entry.path());
      ++result.cache_entries_removed;
      continue;
    }
    for (const std::string& blob : CacheEntryBlobs(entry.path())) blobs.insert(BlobPath(blob));
  }
  for (const ImageRecord& r : VK_TRY(ListImages())) {
    blobs.insert(BlobPath(r.manifest_digest));
    blobs.insert(BlobPath(r.config_digest));
    for (const std::string& layer : r.layers) blobs.insert(BlobPath(layer));
    bases.insert(BasePath(r.manifest_digest));
  }
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(root_ + "/blobs/sha256", error)) {
    if (blobs.count(entry.path().string()) != 0) continue;
    result.bytes_freed += RemoveFile(entry.path());
    ++result.blobs_removed;
  }
  for (const auto& entry : fs::directory_iterator(root_ + "/bases", error)) {
    if (bases.count(entry.path().string()) != 0) continue;
    result.bytes_freed += RemoveFile(entry.path());
    ++result.bases_removed;
  }
  // Records whose blob or base is gone (removed above or by hand).
  for (const auto& entry : fs::directory_iterator(root_ + "/integrity", error)) {
    std::string name = entry.path().filename().string();
    std::string target = name.rfind("blob-", 0) == 0   ? root_ + "/blobs/sha256/" + name.substr(5)
                         : name.rfind("base-", 0) == 0 ? root_ + "/bases/" + name.substr(5)
                                                       : std::string();
    std::error_code exists_error;
    if (target.empty() || !fs::exists(target, exists_error)) RemoveFile(entry.path());
  }
  SweepTemps();
  auto now = fs::file_time_type::clock::now();
  for (const auto& entry : fs::directory_iterator(root_ + "/tmp", error)) {
    // Other temp files belong to an owner token: SweepTemps handled them.
    if (entry.path().extension() != ".partial") continue;
    std::error_code stat_error;
    auto age = now - fs::last_write_time(entry.path(), stat_error);
    if (!stat_error && age > kAbandonedPartialAge) result.bytes_freed += RemoveFile(entry.path());
  }
  std::error_code templates_error;  // templates/ appears only after a first `vk run`
  for (const auto& entry : fs::directory_iterator(root_ + "/templates", templates_error)) {
    const std::string name = entry.path().filename().string();
    if (name.find(".tmp-") == std::string::npos) {
      if (!IsCurrentScratchTemplate(name)) result.bytes_freed += RemoveFile(entry.path());
      continue;
    }
    std::error_code stat_error;
    auto age = now - fs::last_write_time(entry.path(), stat_error);
    if (!stat_error && age > kAbandonedTemplateAge) result.bytes_freed += RemoveFile(entry.path());
  }
  if (error) return Error("prune " + root_ + ": " + error.message());
  return result;
}

}  // namespace vk::image
