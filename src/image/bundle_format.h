// The VM bundle format in a registry (docs/registry.md): an OCI image
// manifest with its own artifactType whose config is the bundle index (the
// parts: disk, kernel, initrd, agent, config JSON) and whose layers are the
// parts' stored chunks: zstd frames, each annotated with its part, offset,
// length and the sha256 of its uncompressed bytes. Ranges of a part that no
// chunk covers are zeros (all-zero chunks are not stored). Parsed from
// untrusted registry responses: every field is checked, no exception escapes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "image/fastcdc.h"
#include "image/manifest.h"

namespace vk::image {

inline constexpr std::string_view kBundleArtifactType = "application/vnd.virtkit.bundle.v1";
inline constexpr std::string_view kBundleIndexType = "application/vnd.virtkit.bundle.index.v1+json";
inline constexpr std::string_view kBundleChunkType = "application/vnd.virtkit.bundle.chunk.v1+zstd";
inline constexpr std::string_view kPartAnnotation = "org.virtkit.bundle.part";
inline constexpr std::string_view kOffsetAnnotation = "org.virtkit.bundle.offset";
inline constexpr std::string_view kLengthAnnotation = "org.virtkit.bundle.length";
inline constexpr std::string_view kChunkDigestAnnotation = "org.virtkit.bundle.chunk.digest";

// Limits against hostile documents. The index lists a handful of parts; a
// part is a disk image, bounded so offsets never overflow; chunks are
// bounded by the manifest's 4 MiB (about 12k chunk descriptors) anyway.
inline constexpr size_t kMaxBundleIndexBytes = 1 << 20;
inline constexpr size_t kMaxBundleParts = 64;
inline constexpr uint64_t kMaxPartSize = 1ull << 44;  // 16 TiB
inline constexpr size_t kMaxBundleChunks = 1 << 16;
inline constexpr size_t kMaxChunkLimit = 64 << 20;  // the largest `max` an index may declare

struct BundlePart {
  std::string name;  // a plain file name inside the bundle directory
  std::string role;  // disk, kernel, initrd, agent, config
  uint64_t size = 0;
  uint32_t mode = 0644;  // permission bits only
};

struct BundleIndex {
  ChunkLimits limits;
  std::vector<BundlePart> parts;
};

struct BundleChunk {
  size_t part = 0;  // index into BundleIndex::parts
  uint64_t offset = 0;
  uint64_t length = 0;
  std::string raw_digest;  // sha256 of the uncompressed bytes
  Descriptor blob;         // the zstd frame as the registry stores it
};

struct BundleManifest {
  Descriptor index;                      // the config descriptor
  std::vector<BundleChunk> chunks;       // part indices resolved by ResolveBundle
  std::vector<std::string> chunk_parts;  // each chunk's part name; ResolveBundle clears it
};

// The role a file of a bundle directory has, from its name: *.ext4 is a
// disk; kernel, initrd, agent and config.json; anything else is refused.
Result<std::string> PartRole(std::string_view name);

std::string SerializeBundleIndex(const BundleIndex& index);
// `chunks` in manifest order; part names come from `index`.
std::string SerializeBundleManifest(const Descriptor& index_blob, const BundleIndex& index,
                                    const std::vector<BundleChunk>& chunks);

Result<BundleIndex> ParseBundleIndex(std::string_view body);
Result<BundleManifest> ParseBundleManifest(std::string_view body);
// Ties the manifest's chunks to the index's parts and checks that each
// part's chunks are inside it, within the chunk limits and do not overlap.
// Sorts each part's chunks by offset.
Result<void> ResolveBundle(const BundleIndex& index, BundleManifest& manifest);

}  // namespace vk::image
