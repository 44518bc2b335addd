#include "build/build_cache.h"

#include <stdio.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/file_io.h"
#include "base/private_dir.h"
#include "image/manifest.h"
#include "image/sha256.h"

namespace vk::build {
namespace {

using Json = nlohmann::json;

bool IsHexKey(std::string_view key) {
  if (key.size() != 64) return false;
  for (char c : key)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::optional<StageSnapshot> ParseEntry(std::string_view text) {
  if (!image::CheckJsonDepth(text).ok()) return std::nullopt;
  Json root = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) return std::nullopt;
  auto layers = root.find("layers");
  auto config = root.find("config");
  if (layers == root.end() || !layers->is_array() || config == root.end() || !config->is_string())
    return std::nullopt;
  StageSnapshot snapshot;
  for (const Json& layer : *layers) {
    if (!layer.is_object()) return std::nullopt;
    auto digest = layer.find("digest");
    auto size = layer.find("size");
    if (digest == layer.end() || !digest->is_string() || size == layer.end() ||
        !size->is_number_unsigned())
      return std::nullopt;
    snapshot.layers.push_back({digest->get<std::string>(), size->get<uint64_t>()});
  }
  auto parsed = ParseBuildConfig(config->get<std::string>());
  if (!parsed.ok()) return std::nullopt;
  snapshot.config = std::move(*parsed);
  return snapshot;
}

}  // namespace

CacheKey::CacheKey(std::string_view parent) { Add(parent); }

CacheKey& CacheKey::Add(std::string_view part) {
  material_ += std::to_string(part.size());
  material_ += ':';
  material_ += part;
  return *this;
}

std::string CacheKey::Hex() {
  image::Sha256 sha;
  sha.Update(material_);
  return image::DigestHex(sha.Final());
}

std::string BuildCache::PathOf(std::string_view key) const {
  return store_.BuildCacheDir() + "/" + std::string(key) + ".json";
}

std::optional<StageSnapshot> BuildCache::Find(std::string_view key) const {
  if (!IsHexKey(key)) return std::nullopt;
  std::string path = PathOf(key);
  if (::access(path.c_str(), F_OK) != 0) return std::nullopt;
  auto bytes = ReadFileBytes(path, kMaxCacheEntryBytes);
  if (!bytes.ok()) return std::nullopt;
  auto snapshot =
      ParseEntry(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
  if (!snapshot) return std::nullopt;
  for (const LayerBlob& layer : snapshot->layers)
    if (!store_.HasBlob(layer.digest)) return std::nullopt;  // pruned or damaged: run again
  return snapshot;
}

Result<void> BuildCache::Put(std::string_view key, const StageSnapshot& snapshot) {
  if (!IsHexKey(key)) return Error("bad cache key " + std::string(key));
  Json layers = Json::array();
  Json blobs = Json::array();
  for (const LayerBlob& layer : snapshot.layers) {
    layers.push_back({{"digest", layer.digest}, {"size", layer.size}});
    blobs.push_back(layer.digest);
  }
  Json entry = {{"layers", std::move(layers)},
                {"config", SerializeBuildConfig(snapshot.config)},
                {"blobs", std::move(blobs)}};
  std::string tmp = store_.TempPath("cache");
  VK_TRY(WritePrivateFile(tmp, entry.dump()));
  if (::rename(tmp.c_str(), PathOf(key).c_str()) != 0) {
    Error error = Error::FromErrno("store the cache entry " + PathOf(key));
    ::unlink(tmp.c_str());
    return error;
  }
  return Ok();
}

}  // namespace vk::build
