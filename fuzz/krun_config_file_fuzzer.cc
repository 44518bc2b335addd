// Fuzzes the /.krun_config.json reader (capi/krun_config_file.h): the file
// comes from a root directory the client gave, written by whoever built the
// image. Parsing must return an error or a description, never throw or
// crash, and what it returns holds only strings taken from the text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "capi/krun_config_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto file = vk::capi::ParseKrunConfigFile(text);
  if (!file.ok()) return 0;
  size_t total = 0;
  for (const auto& arg : file->argv) total += arg.size();
  for (const auto& entry : file->env) total += entry.size();
  // Unescaping only shrinks JSON strings: more bytes than the text is a bug.
  if (total > size) std::abort();
  return 0;
}
