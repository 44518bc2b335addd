// Test helper: writes an OCI image layout (image-spec image-layout.md) from
// layer tar files, single-platform or as a multi-platform index, so tests can
// seed registries with `skopeo copy oci:...` or import it directly.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "image/fingerprint.h"
#include "image/manifest.h"
#include "image/sha256.h"

namespace vk::image::testing {

inline std::string DigestOfBytes(std::string_view bytes) {
  Sha256 sha;
  sha.Update(bytes);
  return "sha256:" + DigestHex(sha.Final());
}

inline std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class OciLayoutWriter {
 public:
  explicit OciLayoutWriter(std::string dir) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_ + "/blobs/sha256");
    std::ofstream(dir_ + "/oci-layout") << R"({"imageLayoutVersion":"1.0.0"})";
  }

  Descriptor AddBlob(std::string_view bytes, std::string media_type) {
    Descriptor d;
    d.media_type = std::move(media_type);
    d.digest = DigestOfBytes(bytes);
    d.size = bytes.size();
    std::ofstream(dir_ + "/blobs/sha256/" + d.digest.substr(7), std::ios::binary) << bytes;
    return d;
  }

  // `layers`: (path of the tar as stored, path of its uncompressed form).
  Descriptor AddImage(const std::vector<std::pair<std::string, std::string>>& layers,
                      ImageConfig config) {
    std::vector<Descriptor> layer_descriptors;
    for (const auto& [stored, plain] : layers) {
      std::string bytes = FileBytes(stored);
      bool gzip = bytes.size() > 2 && bytes[0] == '\x1f' && bytes[1] == '\x8b';
      layer_descriptors.push_back(AddBlob(bytes, std::string(gzip ? kOciLayerGzip : kOciLayer)));
      config.diff_ids.push_back(DigestOfBytes(FileBytes(plain)));
    }
    Descriptor c = AddBlob(SerializeImageConfig(config), std::string(kOciConfig));
    Descriptor m = AddBlob(SerializeOciManifest(c, layer_descriptors), std::string(kOciManifest));
    Platform p;
    p.os = config.os;
    p.architecture = config.architecture;
    m.platform = p;
    return m;
  }

  // index.json naming `manifest` as `tag`.
  void Tag(const Descriptor& manifest, const std::string& tag) { tags_.push_back({manifest, tag}); }

  // An image index blob over `manifests` (a multi-platform image).
  Descriptor AddIndex(const std::vector<Descriptor>& manifests) {
    std::string body =
        R"({"schemaVersion":2,"mediaType":")" + std::string(kOciIndex) + R"(","manifests":[)";
    for (size_t i = 0; i < manifests.size(); ++i) {
      const Descriptor& m = manifests[i];
      body += (i ? "," : "") + std::string(R"({"mediaType":")") + m.media_type + R"(","digest":")" +
              m.digest + R"(","size":)" + std::to_string(m.size) + R"(,"platform":{"os":")" +
              m.platform->os + R"(","architecture":")" + m.platform->architecture + R"("}})";
    }
    body += "]}";
    return AddBlob(body, std::string(kOciIndex));
  }

  void WriteIndex() {
    std::string body = R"({"schemaVersion":2,"manifests":[)";
    for (size_t i = 0; i < tags_.size(); ++i) {
      const auto& [d, tag] = tags_[i];
      body += (i ? "," : "") + std::string(R"({"mediaType":")") + d.media_type + R"(","digest":")" +
              d.digest + R"(","size":)" + std::to_string(d.size) +
              R"(,"annotations":{"org.opencontainers.image.ref.name":")" + tag + R"("}})";
    }
    body += "]}";
    std::ofstream(dir_ + "/index.json") << body;
  }

 private:
  std::string dir_;
  std::vector<std::pair<Descriptor, std::string>> tags_;
};

}  // namespace vk::image::testing
