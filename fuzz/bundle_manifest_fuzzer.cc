// Fuzzes the bundle documents a registry sends `vk registry pull`:
// ParseBundleManifest and ParseBundleIndex, then ResolveBundle on what
// parses. The input is the manifest, a NUL byte, then the index. No
// exception may escape, nothing may crash, and a resolved bundle's chunks
// must lie inside their parts without overlapping.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "image/bundle_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t split = input.find('\0');
  std::string_view manifest_body = input.substr(0, split);
  std::string_view index_body = split == std::string_view::npos ? "" : input.substr(split + 1);
  auto manifest = vk::image::ParseBundleManifest(manifest_body);
  auto index = vk::image::ParseBundleIndex(index_body);
  if (!manifest.ok() || !index.ok()) return 0;
  if (!vk::image::ResolveBundle(*index, *manifest).ok()) return 0;
  uint64_t end = 0;
  size_t part = 0;
  for (const vk::image::BundleChunk& c : manifest->chunks) {
    if (c.part != part) end = 0;
    part = c.part;
    if (c.offset < end || c.offset + c.length > index->parts.at(c.part).size) std::abort();
    end = c.offset + c.length;
  }
  return 0;
}
