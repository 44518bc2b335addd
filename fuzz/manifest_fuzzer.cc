// Fuzzes registry/archive JSON handling: ParseManifest (with each content
// type a registry may send), SelectPlatform on what parses, and
// ParseImageConfig on the same bytes. No exception may escape and nothing
// may crash; serialising a parsed config must not throw either.
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>

#include "image/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the Content-Type, the rest is the body.
  constexpr std::string_view kContentTypes[] = {"",
                                                vk::image::kOciIndex,
                                                vk::image::kOciManifest,
                                                vk::image::kDockerManifestList,
                                                vk::image::kDockerManifest,
                                                "application/json; charset=utf-8"};
  std::string_view content_type = kContentTypes[data[0] % std::size(kContentTypes)];
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);

  auto manifest = vk::image::ParseManifest(body, content_type);
  if (manifest.ok()) {
    (void)vk::image::SelectPlatform(*manifest, vk::image::Platform{});
    (void)vk::image::SelectPlatform(*manifest, {.architecture = "arm64"});
    if (manifest->kind == vk::image::ManifestKind::kManifest) {
      (void)vk::image::SerializeOciManifest(manifest->config, manifest->layers);
    }
  }
  auto config = vk::image::ParseImageConfig(body);
  if (config.ok()) (void)vk::image::SerializeImageConfig(*config);
  return 0;
}
