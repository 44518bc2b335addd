// Fuzzes the compose file reader (a file users often take from others):
// yaml-cpp's parse, interpolation, every key's value parser and the checks
// across services. Must never crash, and a fleet it accepts must print as
// YAML that reads back (what `vk fleet config` promises).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "fleet/compose_file.h"
#include "fleet/fleet_yaml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  vk::fleet::VariableLookup lookup = [](std::string_view name) -> std::optional<std::string> {
    if (name == "TAG") return std::string("1.2");
    return std::nullopt;
  };
  // A project directory that does not exist: env_file entries fail to read
  // instead of reaching the host's files.
  const std::string dir = "/nonexistent-vk-fuzz";
  auto fleet = vk::fleet::ParseComposeText(text, "compose.yaml", dir, lookup, {});
  // A fleet whose services are all in disabled profiles is read, but prints
  // as `services: {}`, which no reader takes (and `vk fleet up` refuses it).
  if (!fleet.ok() || fleet->services.empty()) return 0;
  std::string printed = vk::fleet::FleetToYaml(*fleet);
  auto again = vk::fleet::ParseComposeText(printed, "printed.yaml", dir, lookup, {});
  if (!again.ok()) abort();
  return 0;
}
