// Fuzzes the run spec codec, the JSON `vk supervise` reads on stdin from
// whatever program embeds the library: DecodeRunSpec must return an error
// or a spec, never throw or crash, and a spec it accepts must encode to JSON
// that decodes to the same encoding (the codec is its own inverse).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "runtime/run_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto spec = vk::DecodeRunSpec(text);
  if (!spec.ok()) return 0;
  std::string encoded = vk::EncodeRunSpec(*spec);
  // Defaults written out may push a spec near the size bound over it.
  if (encoded.size() > vk::kMaxRunSpecBytes) return 0;
  auto again = vk::DecodeRunSpec(encoded);
  if (!again.ok() || vk::EncodeRunSpec(*again) != encoded) std::abort();
  return 0;
}
