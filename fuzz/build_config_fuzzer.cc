// Fuzzes the builder's reading of a base image's config (untrusted: it
// comes from a registry or an archive): ParseBuildConfig must not crash or
// throw, and what it accepts must serialise and read back unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "build/build_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = vk::build::ParseBuildConfig(text);
  if (!config.ok()) return 0;
  std::string again = vk::build::SerializeBuildConfig(*config);
  auto reread = vk::build::ParseBuildConfig(again);
  if (!reread.ok() || !(*reread == *config)) std::abort();
  return 0;
}
