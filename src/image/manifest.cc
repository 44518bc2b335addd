// OCI image-spec (manifest.md, image-index.md, config.md, descriptor.md)
// and Docker Image Manifest V2 Schema 2 parsing. Every document is
// untrusted: nlohmann-json exceptions are caught in the public functions
// and each field is type-checked before it is read.
#include "image/manifest.h"

#include <nlohmann/json.hpp>
#include <string>

#include "base/progress.h"
#include "base/strings.h"
#include "image/reference.h"

namespace vk::image {
namespace {

using Json = nlohmann::json;

// Nesting bound: no manifest or config needs more than a handful of levels,
// and a 4 MiB run of '[' would otherwise build millions of nested values.
constexpr size_t kMaxJsonDepth = 64;

constexpr std::string_view kDockerSchema1 = "application/vnd.docker.distribution.manifest.v1+json";
constexpr std::string_view kDockerSchema1Signed =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";

enum class Presence { kRequired, kOptional };

Error Schema1Error() {
  return Error(
      "the image uses the deprecated Docker schema 1 manifest format, which is not supported; "
      "it must be re-pushed with a current docker or skopeo (which convert it to schema 2)");
}

}  // namespace

Result<void> CheckJsonDepth(std::string_view body) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) {
        return Error("JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return Ok();
}

namespace {

Result<Json> ParseJson(std::string_view body, size_t limit, std::string_view what) {
  if (body.size() > limit) {
    return Error(std::string(what) + " is " + std::to_string(body.size()) + " bytes, over the " +
                 std::to_string(limit) + "-byte limit");
  }
  VK_TRY(CheckJsonDepth(body));
  Json root = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return Error(std::string(what) + " is not valid JSON");
  if (!root.is_object()) return Error(std::string(what) + " is not a JSON object");
  return root;
}

Result<std::string> GetString(const Json& obj, const char* key, Presence presence) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (presence == Presence::kOptional) return std::string();
    return Error(std::string("missing \"") + key + "\"");
  }
  if (!it->is_string()) return Error(std::string("\"") + key + "\" is not a string");
  return it->get<std::string>();
}

// null and absent both mean "not set" (docker writes "Cmd": null).
Result<std::vector<std::string>> GetStringArray(const Json& obj, const char* key) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_array()) return Error(std::string("\"") + key + "\" is not an array");
  for (const Json& item : *it) {
    if (!item.is_string()) return Error(std::string("\"") + key + "\" holds a non-string");
    out.push_back(item.get<std::string>());
  }
  return out;
}

Result<uint64_t> GetSize(const Json& obj) {
  auto it = obj.find("size");
  if (it == obj.end()) return Error("missing \"size\"");
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  if (it->is_number_integer() && it->get<int64_t>() >= 0) return it->get<uint64_t>();
  return Error("\"size\" is not a non-negative integer");
}

Result<Platform> ParseEntryPlatform(const Json& j) {
  if (!j.is_object()) return Error("\"platform\" is not an object");
  Platform platform;
  platform.os = VK_TRY_CTX(GetString(j, "os", Presence::kRequired), "platform");
  platform.architecture = VK_TRY_CTX(GetString(j, "architecture", Presence::kRequired), "platform");
  platform.variant = VK_TRY_CTX(GetString(j, "variant", Presence::kOptional), "platform");
  return platform;
}

Result<std::map<std::string, std::string>> ParseAnnotations(const Json& obj) {
  std::map<std::string, std::string> out;
  auto it = obj.find("annotations");
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_object()) return Error("\"annotations\" is not an object");
  for (const auto& [key, value] : it->items()) {
    if (!value.is_string()) return Error("annotation \"" + key + "\" is not a string");
    out[key] = value.get<std::string>();
  }
  return out;
}

Result<Descriptor> ParseDescriptor(const Json& j) {
  if (!j.is_object()) return Error("descriptor is not an object");
  Descriptor d;
  d.media_type = VK_TRY(GetString(j, "mediaType", Presence::kOptional));
  d.digest = VK_TRY(GetString(j, "digest", Presence::kRequired));
  if (!IsValidDigest(d.digest)) {
    return Error("digest \"" + d.digest + "\" is not sha256:<64 lower-case hex>");
  }
  d.size = VK_TRY(GetSize(j));
  if (d.size == 0 && d.digest != kEmptyBlobDigest)
    return Error("\"size\" is 0, which only the empty blob may declare");
  if (auto it = j.find("platform"); it != j.end() && !it->is_null()) {
    d.platform = VK_TRY(ParseEntryPlatform(*it));
  }
  d.annotations = VK_TRY(ParseAnnotations(j));
  return d;
}

Result<std::vector<Descriptor>> ParseDescriptorList(const Json& root, const char* key,
                                                    size_t limit) {
  auto it = root.find(key);
  if (it == root.end() || !it->is_array())
    return Error(std::string("missing \"") + key + "\" array");
  if (it->size() > limit) {
    return Error(std::string("\"") + key + "\" has " + std::to_string(it->size()) +
                 " entries, over the limit of " + std::to_string(limit));
  }
  std::vector<Descriptor> out;
  out.reserve(it->size());
  for (const Json& item : *it) {
    std::string where = std::string(key) + "[" + std::to_string(out.size()) + "]";
    out.push_back(VK_TRY_CTX(ParseDescriptor(item), where));
  }
  return out;
}

// "application/vnd.oci.image.index.v1+json; charset=utf-8" -> the type.
std::string_view BareContentType(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && content_type.back() == ' ') content_type.remove_suffix(1);
  while (!content_type.empty() && content_type.front() == ' ') content_type.remove_prefix(1);
  return content_type;
}

bool IsKnownType(std::string_view type) {
  return type == kOciIndex || type == kOciManifest || type == kDockerManifestList ||
         type == kDockerManifest || type == kDockerSchema1 || type == kDockerSchema1Signed;
}

// The body's mediaType wins; a manifest Content-Type next; otherwise the
// shape decides (OCI makes mediaType optional). Generic content types such
// as application/json say nothing, so they fall through to the shape.
Result<std::string> ResolveMediaType(const Json& root, std::string_view content_type) {
  std::string declared = VK_TRY(GetString(root, "mediaType", Presence::kOptional));
  if (!declared.empty()) return declared;
  std::string_view bare = BareContentType(content_type);
  if (IsKnownType(bare)) return std::string(bare);
  if (root.contains("manifests")) return std::string(kOciIndex);
  if (root.contains("layers")) return std::string(kOciManifest);
  return Error("document has no mediaType and neither \"manifests\" nor \"layers\"");
}

Result<void> CheckSchemaVersion(const Json& root) {
  auto it = root.find("schemaVersion");
  if (it == root.end()) return Ok();
  if (!it->is_number_integer()) return Error("\"schemaVersion\" is not an integer");
  if (*it == 1) return Schema1Error();
  if (*it != 2) return Error("unsupported schemaVersion " + it->dump());
  return Ok();
}

Result<Manifest> ParseManifestJson(const Json& root, std::string_view content_type) {
  VK_TRY(CheckSchemaVersion(root));
  Manifest m;
  m.media_type = VK_TRY(ResolveMediaType(root, content_type));
  if (m.media_type == kDockerSchema1 || m.media_type == kDockerSchema1Signed) {
    return Schema1Error();
  }
  if (m.media_type == kOciIndex || m.media_type == kDockerManifestList) {
    m.kind = ManifestKind::kIndex;
    m.manifests = VK_TRY(ParseDescriptorList(root, "manifests", kMaxIndexEntries));
    return m;
  }
  if (m.media_type != kOciManifest && m.media_type != kDockerManifest) {
    return Error("unsupported manifest media type \"" + m.media_type + "\"");
  }
  m.kind = ManifestKind::kManifest;
  auto config = root.find("config");
  if (config == root.end()) return Error("missing \"config\"");
  m.config = VK_TRY_CTX(ParseDescriptor(*config), "config");
  m.layers = VK_TRY(ParseDescriptorList(root, "layers", kMaxLayers));
  return m;
}

// containerd's rule: arm64 without a variant is arm64/v8.
std::string NormalVariant(const Platform& p) {
  if (p.architecture == "arm64" && p.variant.empty()) return "v8";
  return p.variant;
}

bool Matches(const Platform& have, const Platform& want) {
  if (have.os != want.os || have.architecture != want.architecture) return false;
  return want.variant.empty() || NormalVariant(have) == NormalVariant(want);
}

std::string ListPlatforms(const Manifest& index) {
  std::string out;
  for (const Descriptor& d : index.manifests) {
    // Attestation manifests carry unknown/unknown; they are not images.
    if (!d.platform || d.platform->os == "unknown") continue;
    if (!out.empty()) out += ", ";
    out += d.platform->ToString();
  }
  return out.empty() ? "none" : out;
}

bool IsPlatformWord(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Spellings users bring from `uname -m`.
std::string NormalArchitecture(std::string_view arch) {
  if (arch == "x86_64" || arch == "x86-64") return "amd64";
  if (arch == "aarch64") return "arm64";
  return std::string(arch);
}

Json DescriptorJson(const Descriptor& d) {
  Json j = {{"mediaType", d.media_type}, {"digest", d.digest}, {"size", d.size}};
  if (!d.annotations.empty()) j["annotations"] = d.annotations;
  if (d.platform) {
    j["platform"] = {{"os", d.platform->os}, {"architecture", d.platform->architecture}};
    if (!d.platform->variant.empty()) j["platform"]["variant"] = d.platform->variant;
  }
  return j;
}

// Compact, keys sorted (nlohmann::json's object is a std::map), invalid
// UTF-8 replaced rather than thrown: the output is stable for hashing.
std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

Result<ImageConfig> ParseConfigJson(const Json& root) {
  ImageConfig c;
  c.architecture = VK_TRY(GetString(root, "architecture", Presence::kOptional));
  c.os = VK_TRY(GetString(root, "os", Presence::kOptional));
  if (auto it = root.find("config"); it != root.end() && !it->is_null()) {
    if (!it->is_object()) return Error("\"config\" is not an object");
    c.entrypoint = VK_TRY(GetStringArray(*it, "Entrypoint"));
    c.cmd = VK_TRY(GetStringArray(*it, "Cmd"));
    c.env = VK_TRY(GetStringArray(*it, "Env"));
    c.working_dir = VK_TRY(GetString(*it, "WorkingDir", Presence::kOptional));
    c.user = VK_TRY(GetString(*it, "User", Presence::kOptional));
  }
  auto rootfs = root.find("rootfs");
  if (rootfs == root.end() || !rootfs->is_object()) return Error("missing \"rootfs\" object");
  if (VK_TRY(GetString(*rootfs, "type", Presence::kRequired)) != "layers") {
    return Error("rootfs type is not \"layers\"");
  }
  c.diff_ids = VK_TRY_CTX(GetStringArray(*rootfs, "diff_ids"), "rootfs");
  if (c.diff_ids.size() > kMaxLayers) return Error("rootfs has more than 1000 diff_ids");
  for (const std::string& id : c.diff_ids) {
    if (!IsValidDigest(id))
      return Error("diff_id \"" + id + "\" is not sha256:<64 lower-case hex>");
  }
  return c;
}

}  // namespace

std::string Platform::ToString() const {
  std::string out = os + "/" + architecture;
  if (!variant.empty()) out += "/" + variant;
  return out;
}

Result<Platform> ParsePlatform(std::string_view text) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t slash = text.find('/', start);
    parts.push_back(text.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  bool valid = parts.size() <= 3;
  for (std::string_view part : parts) valid = valid && IsPlatformWord(part);
  if (!valid) {
    return Error("invalid platform \"" + std::string(text) +
                 "\": expected ARCH, OS/ARCH or OS/ARCH/VARIANT in lower case");
  }
  Platform p;
  if (parts.size() == 1) {
    p.architecture = NormalArchitecture(parts[0]);
    return p;
  }
  p.os = std::string(parts[0]);
  p.architecture = NormalArchitecture(parts[1]);
  if (parts.size() == 3) p.variant = std::string(parts[2]);
  return p;
}

Result<Manifest> ParseManifest(std::string_view body, std::string_view content_type) {
  try {
    Json root = VK_TRY_CTX(ParseJson(body, kMaxManifestBytes, "manifest"), "parse manifest");
    return ParseManifestJson(root, content_type).Context("parse manifest");
  } catch (const Json::exception& e) {
    return Error(std::string("parse manifest: ") + e.what());
  }
}

Result<Descriptor> SelectPlatform(const Manifest& index, const Platform& want) {
  if (index.kind != ManifestKind::kIndex) {
    return Error("select platform " + want.ToString() + ": not an image index");
  }
  for (const Descriptor& d : index.manifests) {
    if (d.platform && Matches(*d.platform, want)) return d;
  }
  return Error("the image has no " + want.ToString() +
               " variant; available platforms: " + ListPlatforms(index));
}

Result<ImageConfig> ParseImageConfig(std::string_view body) {
  try {
    Json root = VK_TRY_CTX(ParseJson(body, kMaxConfigBytes, "image config"), "parse image config");
    return ParseConfigJson(root).Context("parse image config");
  } catch (const Json::exception& e) {
    return Error(std::string("parse image config: ") + e.what());
  }
}

std::string SerializeOciManifest(const Descriptor& config, const std::vector<Descriptor>& layers) {
  Json j = {{"schemaVersion", 2},
            {"mediaType", std::string(kOciManifest)},
            {"config", DescriptorJson(config)}};
  j["layers"] = Json::array();
  for (const Descriptor& layer : layers) j["layers"].push_back(DescriptorJson(layer));
  return Dump(j);
}

std::string SerializeImageConfig(const ImageConfig& config) {
  Json run = Json::object();
  if (!config.entrypoint.empty()) run["Entrypoint"] = config.entrypoint;
  if (!config.cmd.empty()) run["Cmd"] = config.cmd;
  if (!config.env.empty()) run["Env"] = config.env;
  if (!config.working_dir.empty()) run["WorkingDir"] = config.working_dir;
  if (!config.user.empty()) run["User"] = config.user;
  Json j = {{"architecture", config.architecture},
            {"os", config.os},
            {"config", run},
            {"rootfs", {{"type", "layers"}, {"diff_ids", config.diff_ids}}}};
  return Dump(j);
}

Result<uint64_t> MaxImageSize() {
  const char* text = std::getenv(std::string(kMaxImageSizeVariable).c_str());
  if (text == nullptr || *text == '\0') return kDefaultMaxImageSize;
  auto size = ParseSize(text);
  if (!size.ok() || *size == 0)
    return Error(std::string(kMaxImageSizeVariable) + "=" + text +
                 " is not a size (use bytes or a K/M/G/T suffix, e.g. 64G)");
  return *size;
}

Result<void> CheckImageSize(const Manifest& manifest, std::string_view image, uint64_t limit) {
  if (manifest.config.size > kMaxConfigBytes)
    return Error(std::string(image) + ": its config declares " +
                 std::to_string(manifest.config.size) + " bytes, over the " +
                 std::to_string(kMaxConfigBytes) + "-byte limit for image configs");
  uint64_t total = manifest.config.size;
  for (const Descriptor& layer : manifest.layers) {
    // Each size is below 2^64 but their sum may wrap: saturate instead.
    total = layer.size > UINT64_MAX - total ? UINT64_MAX : total + layer.size;
  }
  if (total <= limit) return Ok();
  return Error(std::string(image) + " declares " + Progress::FormatBytes(total) + " (" +
               std::to_string(total) + " bytes, layers + config), over the limit of " +
               Progress::FormatBytes(limit) + "; set " + std::string(kMaxImageSizeVariable) +
               " (e.g. 128G) to allow larger images");
}

}  // namespace vk::image
