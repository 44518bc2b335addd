// Fuzzes merging compose files (`vk fleet -f a.yaml -f b.yaml`,
// fleet/compose_merge.h) and reading the merged fleet: the input is two
// files, the second after a line "---", merged over the first. Must never
// crash, and a fleet it accepts must print as YAML that reads back.
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
  size_t split = text.find("\n---\n");
  std::string base(text.substr(0, split));
  std::string over(split == std::string_view::npos ? "" : text.substr(split + 5));
  vk::fleet::VariableLookup lookup = [](std::string_view name) -> std::optional<std::string> {
    if (name == "TAG") return std::string("1.2");
    return std::nullopt;
  };
  // A project directory that does not exist: env_file entries fail to read
  // instead of reaching the host's files.
  const std::string dir = "/nonexistent-vk-fuzz";
  auto fleet = vk::fleet::ParseComposeTexts(
      {{"compose.yaml", base}, {"compose.override.yaml", over}}, dir, lookup, {});
  // A fleet whose services are all in disabled profiles is read, but prints
  // as `services: {}`, which no reader takes (and `vk fleet up` refuses it).
  if (!fleet.ok() || fleet->services.empty()) return 0;
  std::string printed = vk::fleet::FleetToYaml(*fleet);
  auto again = vk::fleet::ParseComposeText(printed, "printed.yaml", dir, lookup, {});
  if (!again.ok()) abort();
  return 0;
}
