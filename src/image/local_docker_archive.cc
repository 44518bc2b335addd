// `docker-archive:FILE[:REF]`: `docker save` output. manifest.json lists each
// image's config and layer entries; the layers are (usually) uncompressed tars, so
// their digest is also their diff_id. We store each entry under the digest
// computed while streaming it and synthesize an OCI manifest for the image.
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/fd_io.h"
#include "image/local_source_internal.h"

namespace vk::image::local {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kBlobPrefix = "blobs/sha256/";

struct DockerImage {
  std::string config;                  // entry name
  std::vector<std::string> repo_tags;  // "alpine:latest"
  std::vector<std::string> layers;     // entry names, lowest first
};

// An archive entry now in the store.
struct StoredEntry {
  std::string digest;
  uint64_t size = 0;
  std::string media_type;  // of a layer, from its first bytes
};

bool IsHex64(std::string_view s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// The hex a name promises for its content ("<hex>.json", "<hex>.tar" as
// skopeo writes layers, "blobs/sha256/<hex>"), or empty when the name is not
// content-addressed (docker's "<v1 id>/layer.tar").
std::string_view PromisedHex(std::string_view name) {
  if (name.substr(0, kBlobPrefix.size()) == kBlobPrefix) return name.substr(kBlobPrefix.size());
  if (name.size() == 69 && (name.substr(64) == ".json" || name.substr(64) == ".tar")) {
    return name.substr(0, 64);
  }
  return {};
}

bool IsConfigName(std::string_view name) { return IsHex64(PromisedHex(name)); }

// Names only select tar entries (they never become host paths), so any
// short relative name of plain components will do; "..", "." and absolute
// names are refused as signs of a hostile or broken manifest.json.
bool IsLayerName(std::string_view name) {
  constexpr size_t kMaxComponents = 4;
  size_t components = 0;
  for (size_t start = 0; start <= name.size(); ++components) {
    size_t slash = std::min(name.find('/', start), name.size());
    std::string_view part = name.substr(start, slash - start);
    bool plain = part.find_first_not_of(
                     "0123456789abcdefghijklmnopqrstuvwxyz"
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ_.-") == std::string_view::npos;
    if (part.empty() || part == "." || part == ".." || !plain) return false;
    start = slash + 1;
  }
  return components <= kMaxComponents;
}

Result<std::vector<std::string>> StringList(const Json& image, const char* key, size_t limit) {
  std::vector<std::string> out;
  auto it = image.find(key);
  if (it == image.end() || it->is_null()) return out;
  if (!it->is_array() || it->size() > limit) return Error(std::string("bad \"") + key + "\"");
  for (const Json& item : *it) {
    if (!item.is_string()) return Error(std::string("\"") + key + "\" holds a non-string");
    out.push_back(item.get<std::string>());
  }
  return out;
}

Result<DockerImage> ParseDockerImage(const Json& j) {
  if (!j.is_object()) return Error("entry is not an object");
  DockerImage image;
  auto config = j.find("Config");
  if (config == j.end() || !config->is_string()) return Error("missing \"Config\"");
  image.config = config->get<std::string>();
  if (!IsConfigName(image.config)) return Error("bad config name \"" + image.config + "\"");
  image.repo_tags = VK_TRY(StringList(j, "RepoTags", kMaxIndexEntries));
  image.layers = VK_TRY(StringList(j, "Layers", kMaxLayers));
  for (const std::string& layer : image.layers) {
    if (!IsLayerName(layer)) return Error("bad layer name \"" + layer + "\"");
  }
  return image;
}

Result<std::vector<DockerImage>> ParseDockerManifest(std::string_view text) {
  std::vector<DockerImage> images;
  try {
    Json root = Json::parse(text);
    if (!root.is_array() || root.size() > kMaxIndexEntries) return Error("not a JSON array");
    for (const Json& j : root) images.push_back(VK_TRY(ParseDockerImage(j)));
  } catch (const Json::exception& e) {
    return Error(std::string("not JSON: ") + e.what());
  }
  return images;
}

// "alpine" matches "alpine:latest" and "docker.io/library/alpine:latest".
bool TagMatches(const std::string& have, const std::string& want) {
  if (have == want) return true;
  auto a = ParseReference(have);
  auto b = ParseReference(want);
  return a.ok() && b.ok() && a->Canonical() == b->Canonical();
}

std::string ListTags(const std::vector<DockerImage>& images) {
  std::string tags;
  for (const DockerImage& image : images) {
    for (const std::string& tag : image.repo_tags) tags += (tags.empty() ? "" : ", ") + tag;
  }
  return tags.empty() ? "none" : tags;
}

Result<DockerImage> SelectImage(const std::vector<DockerImage>& images, const std::string& ref) {
  if (images.empty()) return Error("manifest.json lists no images");
  if (ref.empty()) {
    if (images.size() == 1) return images[0];
    return Error("holds " + std::to_string(images.size()) +
                 " images; add :REF to pick one (tags: " + ListTags(images) + ")");
  }
  for (const DockerImage& image : images) {
    for (const std::string& tag : image.repo_tags) {
      if (TagMatches(tag, ref)) return image;
    }
  }
  return Error("no image tagged \"" + ref + "\" (tags: " + ListTags(images) + ")");
}

// First pass: manifest.json only (`docker save` may write it last).
Result<std::string> ReadDockerManifest(int fd, const std::string& path) {
  auto tar = VK_TRY(TarStream::Open(fd, path, TarReadMode::kIndex));
  for (;;) {
    archive_entry* entry = VK_TRY(tar->Next());
    if (entry == nullptr) break;
    if (RegularEntryName(entry) == "manifest.json") {
      return ReadEntry(*tar, entry, kMaxManifestBytes).Context("manifest.json");
    }
  }
  return Error(
      "no manifest.json: not a `docker save` archive (for an OCI archive use oci-archive:" + path +
      ")");
}

// A store temp file, removed unless it was renamed into place.
class TempFile {
 public:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  ~TempFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }
  void Release() { path_.clear(); }

 private:
  std::string path_;
};

std::string LayerMediaType(const uint8_t magic[4]) {
  if (magic[0] == 0x1f && magic[1] == 0x8b) return std::string(kOciLayerGzip);
  if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
    return std::string(kOciLayerZstd);
  return std::string(kOciLayer);
}

// Moves a complete, hashed temp file to its blob path (atomic, like PutBlob).
Result<void> PlaceBlob(Store& store, TempFile& tmp, const std::string& digest) {
  if (store.HasBlob(digest)) return Ok();  // identical bytes already there
  std::string path = tmp.path();
  tmp.Release();  // AdoptBlob renames it or removes it
  return store.AdoptBlob(path, digest);
}

// Streams the current entry to a store temp file, hashing as it goes.
Result<StoredEntry> StreamToStore(Store& store, TarStream& tar, uint64_t max_bytes) {
  TempFile tmp(store.TempPath("import"));
  UniqueFd fd(::open(tmp.path().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) return Error::FromErrno("create " + tmp.path());
  Sha256 sha;
  StoredEntry out;
  uint8_t magic[4] = {};
  VK_TRY(ForEachBlock(tar, [&](const void* data, size_t length) -> Result<void> {
    if (out.size + length > max_bytes)
      return Error("over the " + std::to_string(max_bytes) + "-byte limit");
    for (size_t i = out.size; i < 4 && i - out.size < length; ++i)
      magic[i] = static_cast<const uint8_t*>(data)[i - out.size];
    VK_TRY_CTX(WriteAll(fd.get(), {static_cast<const uint8_t*>(data), length}), tmp.path());
    sha.Update(data, length);
    out.size += length;
    return Ok();
  }));
  if (::fsync(fd.get()) != 0) return Error::FromErrno("sync " + tmp.path());
  out.digest = "sha256:" + DigestHex(sha.Final());
  out.media_type = LayerMediaType(magic);
  VK_TRY(PlaceBlob(store, tmp, out.digest));
  return out;
}

// Second pass: every entry the image names, into the store.
Result<std::map<std::string, StoredEntry>> StreamImage(Store& store, int fd,
                                                       const std::string& path,
                                                       const DockerImage& image) {
  std::set<std::string, std::less<>> wanted(image.layers.begin(), image.layers.end());
  wanted.insert(image.config);
  std::map<std::string, StoredEntry, std::less<>> stored;
  auto tar = VK_TRY(TarStream::Open(fd, path, TarReadMode::kIndex));
  for (;;) {
    archive_entry* entry = VK_TRY(tar->Next());
    if (entry == nullptr) break;
    std::string_view name = RegularEntryName(entry);
    if (!wanted.contains(name) || stored.contains(name)) continue;
    uint64_t limit = name == image.config ? kMaxConfigBytes : UINT64_MAX;
    stored[std::string(name)] = VK_TRY_CTX(StreamToStore(store, *tar, limit), name);
  }
  for (const std::string& name : wanted) {
    if (!stored.contains(name)) return Error("manifest.json names " + name + ", which is missing");
  }
  return std::map<std::string, StoredEntry>(stored.begin(), stored.end());
}

Result<void> CheckPromise(const std::string& name, const StoredEntry& entry) {
  std::string_view hex = PromisedHex(name);
  if (hex.empty() || entry.digest.substr(7) == hex) return Ok();
  return Error(name + " does not match its name (content is " + entry.digest +
               "): the archive is corrupt");
}

// docker load's check: an uncompressed layer's digest is its diff_id.
Result<void> CheckDiffIds(const Manifest& manifest, const ImageConfig& config) {
  if (config.diff_ids.size() != manifest.layers.size()) {
    return Error("the config lists " + std::to_string(config.diff_ids.size()) +
                 " layers, manifest.json " + std::to_string(manifest.layers.size()));
  }
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    const Descriptor& layer = manifest.layers[i];
    if (layer.media_type == kOciLayer && layer.digest != config.diff_ids[i]) {
      return Error("layer " + std::to_string(i + 1) + " (" + layer.digest +
                   ") does not match the config's diff_id " + config.diff_ids[i] +
                   ": the archive is corrupt");
    }
  }
  return Ok();
}

Result<Manifest> BuildManifest(const Store& store, const DockerImage& image,
                               const std::map<std::string, StoredEntry>& stored) {
  Manifest manifest;
  const StoredEntry& config = stored.at(image.config);
  VK_TRY(CheckPromise(image.config, config));
  manifest.config = {std::string(kOciConfig), config.digest, config.size, std::nullopt, {}};
  for (const std::string& name : image.layers) {
    const StoredEntry& layer = stored.at(name);
    VK_TRY(CheckPromise(name, layer));
    manifest.layers.push_back({layer.media_type, layer.digest, layer.size, std::nullopt, {}});
  }
  std::string config_json = VK_TRY(store.ReadBlob(config.digest, kMaxConfigBytes));
  VK_TRY(CheckDiffIds(manifest, VK_TRY(ParseImageConfig(config_json))));
  return manifest;
}

Result<ImageRecord> ImportArchive(Store& store, const ImageSource& source, int fd) {
  std::string manifest_json = VK_TRY(ReadDockerManifest(fd, source.path));
  auto images = VK_TRY_CTX(ParseDockerManifest(manifest_json), "manifest.json");
  DockerImage image = VK_TRY(SelectImage(images, source.tag));
  auto stored = VK_TRY(StreamImage(store, fd, source.path, image));
  Manifest manifest = VK_TRY(BuildManifest(store, image, stored));
  std::string digest =
      VK_TRY(store.PutBlob(SerializeOciManifest(manifest.config, manifest.layers)));
  return RecordImage(store, source, digest, manifest);
}

}  // namespace

Result<ImageRecord> ImportDockerArchive(Store& store, const ImageSource& source) {
  std::string where = Where(source);
  UniqueFd fd = VK_TRY_CTX(OpenArchiveFile(source.path), where);
  return ImportArchive(store, source, fd.get()).Context(where);
}

}  // namespace vk::image::local
