// OCI / Docker schema 2 manifests, indexes and image configs, parsed from
// untrusted JSON (registry responses, archives) into plain structs.
// nlohmann-json exceptions never escape: every problem is an Error.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vk::image {

inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayerGzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";

// sha256 of zero bytes: the one blob whose descriptor may say size 0 (a
// size-0 descriptor of anything else would leave its download unbounded).
inline constexpr std::string_view kEmptyBlobDigest =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Counts bracket nesting outside strings and refuses more than 64 levels:
// run before nlohmann-json parses untrusted JSON, so a run of '[' cannot
// make it allocate millions of nested values.
Result<void> CheckJsonDepth(std::string_view body);

// Limits against hostile documents.
inline constexpr size_t kMaxManifestBytes = 4 << 20;  // registries cap at 4 MiB too
// Image configs are a few KiB (a long history makes tens); 8 MiB is ample
// and keeps a hostile one from being held in memory at gigabyte size.
inline constexpr size_t kMaxConfigBytes = 8 << 20;
inline constexpr size_t kMaxLayers = 1000;
inline constexpr size_t kMaxIndexEntries = 10000;

// An image's declared size (config + layers) is capped before anything is
// downloaded, so a manifest cannot make a pull fill the disk.
inline constexpr uint64_t kDefaultMaxImageSize = 64ull << 30;
inline constexpr std::string_view kMaxImageSizeVariable = "VIRTKIT_MAX_IMAGE_SIZE";

struct Platform {
  std::string os = "linux";
  std::string architecture = "amd64";
  std::string variant;           // "v8" for arm64, usually empty
  std::string ToString() const;  // "linux/amd64", "linux/arm64/v8"
};

// "linux/amd64", "linux/arm64/v8", "amd64" (os defaults to linux).
Result<Platform> ParsePlatform(std::string_view text);

struct Descriptor {
  std::string media_type;
  std::string digest;  // validated: sha256:<64 hex>
  uint64_t size = 0;
  std::optional<Platform> platform;  // index entries only
  std::map<std::string, std::string> annotations;
};

enum class ManifestKind { kIndex, kManifest };

struct Manifest {
  ManifestKind kind = ManifestKind::kManifest;
  std::string media_type;             // as declared (or from content type)
  std::vector<Descriptor> manifests;  // kIndex
  Descriptor config;                  // kManifest
  std::vector<Descriptor> layers;     // kManifest, lowest first
};

// `content_type` is the HTTP Content-Type (may be empty); the body's
// mediaType wins when present. Schema 1 and unknown types are refused with
// a message saying so.
Result<Manifest> ParseManifest(std::string_view body, std::string_view content_type = {});

// The index entry for `want` (variant matched when given; "arm64" without a
// variant matches any arm64). Error lists the platforms available.
Result<Descriptor> SelectPlatform(const Manifest& index, const Platform& want);

// The part of the image config `vk run` honours.
struct ImageConfig {
  std::string architecture;
  std::string os;
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // "K=V"
  std::string working_dir;
  std::string user;
  std::vector<std::string> diff_ids;  // uncompressed layer digests
};
Result<ImageConfig> ParseImageConfig(std::string_view body);

// VIRTKIT_MAX_IMAGE_SIZE ("64G", "500M", bytes) or kDefaultMaxImageSize.
Result<uint64_t> MaxImageSize();
// Refuses an image manifest whose config is over kMaxConfigBytes or whose
// config + layers declare more than `limit` bytes; the error names `image`,
// the size and the knob.
Result<void> CheckImageSize(const Manifest& manifest, std::string_view image, uint64_t limit);

// Serialises an OCI image manifest (used to describe local imports).
std::string SerializeOciManifest(const Descriptor& config, const std::vector<Descriptor>& layers);
// Serialises an OCI image config (used by `vk image from-debian`).
std::string SerializeImageConfig(const ImageConfig& config);

}  // namespace vk::image
