#include "image/bundle_format.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "image/bundle_chunk.h"
#include "image/reference.h"

namespace vk::image {
namespace {

using Json = nlohmann::json;

constexpr int kIndexVersion = 1;
constexpr std::string_view kChunkerName = "fastcdc-2020";
constexpr std::string_view kGearName = "splitmix64-0";

bool ValidPartName(std::string_view name) {
  return !name.empty() && name.size() <= 255 && name != "." && name != ".." &&
         name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

// Throws (caught by the callers) on a missing or mistyped field.
uint64_t UintField(const Json& j, const char* key) {
  const Json& v = j.at(key);
  if (!v.is_number_unsigned()) throw std::invalid_argument(std::string(key) + " is not a size");
  return v.get<uint64_t>();
}

Result<uint64_t> NumberAnnotation(const std::map<std::string, std::string>& a,
                                  std::string_view key) {
  auto it = a.find(std::string(key));
  if (it == a.end()) return Error("chunk without the " + std::string(key) + " annotation");
  auto value = ParseUint(it->second);
  if (!value || it->second.empty() || it->second.size() > 20)
    return Error(std::string(key) + " is not a number: \"" + it->second.substr(0, 40) + "\"");
  return *value;
}

Result<BundleChunk> ChunkFrom(const Json& layer, std::string& part_name) {
  BundleChunk chunk;
  chunk.blob.media_type = layer.at("mediaType").get<std::string>();
  chunk.blob.digest = layer.at("digest").get<std::string>();
  chunk.blob.size = UintField(layer, "size");
  if (chunk.blob.media_type != kBundleChunkType)
    return Error("layer of media type " + chunk.blob.media_type.substr(0, 100) +
                 " in a bundle (expected " + std::string(kBundleChunkType) + ")");
  if (!IsValidDigest(chunk.blob.digest)) return Error("chunk blob with an invalid digest");
  chunk.blob.annotations = layer.at("annotations").get<std::map<std::string, std::string>>();
  const auto& a = chunk.blob.annotations;
  auto part = a.find(std::string(kPartAnnotation));
  auto raw = a.find(std::string(kChunkDigestAnnotation));
  if (part == a.end() || raw == a.end())
    return Error("chunk " + chunk.blob.digest + " lacks its part or chunk digest annotation");
  part_name = part->second;
  chunk.raw_digest = raw->second;
  if (!IsValidDigest(chunk.raw_digest)) return Error("chunk with an invalid chunk digest");
  chunk.offset = VK_TRY(NumberAnnotation(a, kOffsetAnnotation));
  chunk.length = VK_TRY(NumberAnnotation(a, kLengthAnnotation));
  return chunk;
}

}  // namespace

Result<std::string> PartRole(std::string_view name) {
  if (name.size() > 5 && name.substr(name.size() - 5) == ".ext4") return std::string("disk");
  if (name == "kernel" || name == "initrd" || name == "agent") return std::string(name);
  if (name == "config.json") return std::string("config");
  return Error(ErrorKind::kUsage, "bundle file \"" + std::string(name) +
                                      "\" is not a bundle part (NAME.ext4 disks, kernel, "
                                      "initrd, agent, config.json)");
}

std::string SerializeBundleIndex(const BundleIndex& index) {
  Json parts = Json::array();
  for (const BundlePart& p : index.parts)
    parts.push_back({{"name", p.name}, {"role", p.role}, {"size", p.size}, {"mode", p.mode}});
  Json j = {{"version", kIndexVersion},
            {"chunker",
             {{"algorithm", kChunkerName},
              {"gear", kGearName},
              {"min", index.limits.min},
              {"avg", index.limits.avg},
              {"max", index.limits.max}}},
            {"parts", parts}};
  return j.dump();
}

std::string SerializeBundleManifest(const Descriptor& index_blob, const BundleIndex& index,
                                    const std::vector<BundleChunk>& chunks) {
  Json layers = Json::array();
  for (const BundleChunk& c : chunks)
    layers.push_back({{"mediaType", kBundleChunkType},
                      {"digest", c.blob.digest},
                      {"size", c.blob.size},
                      {"annotations",
                       {{kPartAnnotation, index.parts.at(c.part).name},
                        {kOffsetAnnotation, std::to_string(c.offset)},
                        {kLengthAnnotation, std::to_string(c.length)},
                        {kChunkDigestAnnotation, c.raw_digest}}}});
  Json j = {
      {"schemaVersion", 2},
      {"mediaType", kOciManifest},
      {"artifactType", kBundleArtifactType},
      {"config",
       {{"mediaType", kBundleIndexType}, {"digest", index_blob.digest}, {"size", index_blob.size}}},
      {"layers", layers}};
  return j.dump();
}

Result<BundleIndex> ParseBundleIndex(std::string_view body) {
  if (body.size() > kMaxBundleIndexBytes) return Error("bundle index larger than 1 MiB");
  try {
    Json j = Json::parse(body);
    if (j.at("version") != kIndexVersion)
      return Error("bundle index version " + j.at("version").dump() +
                   " is not one this vk reads (1): update vk");
    const Json& chunker = j.at("chunker");
    if (chunker.at("algorithm") != std::string(kChunkerName) ||
        chunker.at("gear") != std::string(kGearName))
      return Error("bundle chunked with an unknown chunker");
    BundleIndex index;
    index.limits = {UintField(chunker, "min"), UintField(chunker, "avg"),
                    UintField(chunker, "max")};
    if (index.limits.max > kMaxChunkLimit || !FastCdc::Create(index.limits).ok())
      return Error("bundle index with unusable chunk limits");
    const Json& parts = j.at("parts");
    if (!parts.is_array() || parts.empty() || parts.size() > kMaxBundleParts)
      return Error("bundle index must list 1 to " + std::to_string(kMaxBundleParts) + " parts");
    for (const Json& p : parts) {
      BundlePart part{p.at("name").get<std::string>(), p.at("role").get<std::string>(),
                      UintField(p, "size"), static_cast<uint32_t>(UintField(p, "mode"))};
      if (!ValidPartName(part.name)) return Error("bundle part with an unusable file name");
      auto role = PartRole(part.name);
      if (!role.ok() || *role != part.role)
        return Error("bundle part " + part.name + " has role \"" + part.role.substr(0, 20) +
                     "\", which its name does not allow");
      if (part.size > kMaxPartSize) return Error("bundle part " + part.name + " is over 16 TiB");
      if (UintField(p, "mode") > 0777) return Error("bundle part mode beyond permission bits");
      for (const BundlePart& other : index.parts)
        if (other.name == part.name) return Error("bundle part " + part.name + " listed twice");
      index.parts.push_back(std::move(part));
    }
    return index;
  } catch (const std::exception& e) {
    return Error(std::string("malformed bundle index: ") + e.what());
  }
}

Result<BundleManifest> ParseBundleManifest(std::string_view body) {
  if (body.size() > kMaxManifestBytes) return Error("bundle manifest larger than 4 MiB");
  try {
    Json j = Json::parse(body);
    if (j.value("artifactType", "") != kBundleArtifactType)
      return Error("not a virtkit bundle (artifactType is not " + std::string(kBundleArtifactType) +
                   "); for images use `vk image pull`");
    BundleManifest manifest;
    const Json& config = j.at("config");
    manifest.index.media_type = config.at("mediaType").get<std::string>();
    manifest.index.digest = config.at("digest").get<std::string>();
    manifest.index.size = UintField(config, "size");
    if (manifest.index.media_type != kBundleIndexType || !IsValidDigest(manifest.index.digest) ||
        manifest.index.size == 0 || manifest.index.size > kMaxBundleIndexBytes)
      return Error("bundle manifest with an unusable index descriptor");
    const Json& layers = j.at("layers");
    if (!layers.is_array() || layers.size() > kMaxBundleChunks)
      return Error("bundle manifest must list at most " + std::to_string(kMaxBundleChunks) +
                   " chunks");
    for (const Json& layer : layers) {
      std::string part;
      manifest.chunks.push_back(VK_TRY(ChunkFrom(layer, part)));
      manifest.chunk_parts.push_back(std::move(part));
    }
    return manifest;
  } catch (const std::exception& e) {
    return Error(std::string("malformed bundle manifest: ") + e.what());
  }
}

Result<void> ResolveBundle(const BundleIndex& index, BundleManifest& manifest) {
  for (size_t i = 0; i < manifest.chunks.size(); ++i) {
    BundleChunk& c = manifest.chunks[i];
    auto part = std::find_if(index.parts.begin(), index.parts.end(), [&](const BundlePart& p) {
      return p.name == manifest.chunk_parts[i];
    });
    if (part == index.parts.end()) return Error("chunk of a part the index does not list");
    c.part = static_cast<size_t>(part - index.parts.begin());
    if (c.length == 0 || c.length > index.limits.max || c.offset > part->size ||
        c.length > part->size - c.offset)
      return Error("chunk at offset " + std::to_string(c.offset) + " of " + part->name +
                   " does not fit the part or the chunk limits");
    if (c.blob.size == 0 || c.blob.size > MaxCompressedSize(c.length))
      return Error("chunk blob " + c.blob.digest + " is larger than its chunk could compress to");
  }
  std::vector<size_t> order(manifest.chunks.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto& chunks = manifest.chunks;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::tie(chunks[a].part, chunks[a].offset) < std::tie(chunks[b].part, chunks[b].offset);
  });
  for (size_t i = 1; i < order.size(); ++i) {
    const BundleChunk& prev = chunks[order[i - 1]];
    const BundleChunk& next = chunks[order[i]];
    if (prev.part == next.part && prev.offset + prev.length > next.offset)
      return Error("chunks overlap in " + index.parts[next.part].name + " at offset " +
                   std::to_string(next.offset));
  }
  std::vector<BundleChunk> sorted;
  for (size_t i : order) sorted.push_back(std::move(chunks[i]));
  chunks = std::move(sorted);
  manifest.chunk_parts.clear();
  return Ok();
}

}  // namespace vk::image
