// Fuzzes image reference parsing (`vk pull`/`vk run` arguments and names
// read from archives): ParseImageSource and the printers of what it
// accepts. Must never crash, and whatever parses must print a form that
// parses back to the same reference.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "image/reference.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto source = vk::image::ParseImageSource(text);
  if (!source.ok()) return 0;
  (void)source->Display();
  if (source->kind != vk::image::SourceKind::kRegistry) return 0;
  const vk::image::Reference& ref = source->reference;
  (void)ref.ApiHost();
  (void)ref.ManifestReference();
  auto again = vk::image::ParseReference(ref.Canonical());
  if (!again.ok() || again->Canonical() != ref.Canonical()) abort();
  return 0;
}
