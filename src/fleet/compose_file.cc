#include "fleet/compose_file.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "base/strings.h"
#include "build/suggest.h"
#include "fleet/compose_keys.h"
#include "fleet/compose_reader.h"
#include "fleet/compose_service.h"
#include "fleet/env_file.h"
#include "fleet/fleet_name.h"
#include "fleet/fleet_validate.h"
#include "fleet/text_file.h"

namespace vk::fleet {
namespace {

// A compose file is hand-written configuration; this bounds what a wrong -f
// (an image, a log) costs before yaml-cpp sees it.
constexpr uint64_t kMaxComposeFile = 4 << 20;

bool OnlyDefault(const YAML::Node& node) {
  if (node.IsNull()) return true;
  if (!node.IsMap()) return false;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (it->first.Scalar() != "default") return false;
  }
  return true;
}

struct TopLevel {
  std::string name;
  YAML::Node name_node;
  std::vector<ServiceSpec> services;
};

Result<void> TopLevelKey(ComposeReader& reader, const MapEntry& entry,
                         const std::string& project_dir, TopLevel& top) {
  if (entry.key == "services") {
    for (const MapEntry& service : VK_TRY(reader.Map(entry.value, "services")))
      top.services.push_back(VK_TRY(ParseComposeService(reader, service, project_dir)));
    return Ok();
  }
  if (entry.key == "name") {
    top.name = VK_TRY(reader.String(entry.value, "name"));
    top.name_node = entry.value;
    return Ok();
  }
  if (entry.key.rfind("x-", 0) == 0) return Ok();  // extension fields, for anchors
  const ComposeKey* key = FindComposeKey(KeyScope::kTopLevel, entry.key);
  if (key == nullptr) {
    return reader.At(entry.key_node,
                     "unknown top-level key \"" + entry.key + "\"" +
                         build::DidYouMean(entry.key, ComposeKeyNames(KeyScope::kTopLevel)));
  }
  if (key->support == KeySupport::kNotYet)
    return reader.At(entry.key_node, entry.key + ": " + std::string(key->why));
  // Declaring the default network, or no volume at all, changes nothing.
  bool empty = (entry.key == "networks" && OnlyDefault(entry.value)) ||
               (entry.key == "volumes" && entry.value.IsNull());
  if (key->support == KeySupport::kIgnored && !empty)
    reader.Warn("ignored: " + entry.key + " (" + std::string(key->why) + ")");
  return Ok();
}

Result<std::string> FleetName(ComposeReader& reader, const TopLevel& top,
                              const std::string& project_dir) {
  // compose's precedence: COMPOSE_PROJECT_NAME, then name:, then the directory.
  if (auto name = reader.lookup()("COMPOSE_PROJECT_NAME"); name && !name->empty()) {
    VK_TRY_CTX(CheckFleetName(*name), "COMPOSE_PROJECT_NAME");
    return *name;
  }
  if (!top.name.empty()) {
    auto valid = CheckFleetName(top.name);
    if (!valid.ok()) return reader.At(top.name_node, valid.error());
    return top.name;
  }
  std::string dir_name = std::filesystem::path(project_dir).filename().string();
  std::string name = NormalizeFleetName(dir_name);
  if (name.empty() || !CheckFleetName(name).ok()) {
    return Error(ErrorKind::kUsage, reader.file() +
                                        ": no fleet name can be made from directory \"" + dir_name +
                                        "\": add name: to the file");
  }
  return name;
}

Result<FleetSpec> ParseDocument(const YAML::Node& root, ComposeReader& reader,
                                const std::string& project_dir,
                                const std::vector<std::string>& profiles) {
  if (!root.IsMap()) {
    return Error(ErrorKind::kUsage, reader.file() +
                                        ": not a compose file: expected a mapping "
                                        "with services:");
  }
  TopLevel top;
  for (const MapEntry& entry : VK_TRY(reader.Map(root, "the file")))
    VK_TRY(TopLevelKey(reader, entry, project_dir, top));
  if (top.services.empty())
    return Error(ErrorKind::kUsage, reader.file() + ": no services defined");
  FleetSpec fleet;
  fleet.name = VK_TRY(FleetName(reader, top, project_dir));
  fleet.source = reader.file();
  fleet.project_dir = project_dir;
  fleet.services = std::move(top.services);
  VK_TRY(ValidateFleet(fleet, profiles));
  fleet.warnings = reader.TakeWarnings();
  return fleet;
}

std::vector<std::string> ActiveProfiles(const std::vector<std::string>& given,
                                        const VariableLookup& lookup) {
  if (!given.empty()) return given;
  std::vector<std::string> active;
  if (auto env = lookup("COMPOSE_PROFILES")) {
    for (const std::string& profile : Split(*env, ',')) {
      if (!profile.empty()) active.push_back(profile);
    }
  }
  return active;
}

}  // namespace

Result<std::string> FindComposeFile(const std::string& dir) {
  std::error_code ec;
  for (std::string_view name : kComposeFileNames) {
    std::string path = (std::filesystem::path(dir) / name).string();
    if (std::filesystem::exists(path, ec)) return path;
  }
  return Error(ErrorKind::kNotFound,
               "no compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml in " + dir +
                   ": name one with -f FILE");
}

Result<FleetSpec> ParseComposeText(std::string_view text, const std::string& file,
                                   const std::string& project_dir, const VariableLookup& lookup,
                                   const std::vector<std::string>& profiles) {
  ComposeReader reader(file, lookup);
  try {
    YAML::Node root = YAML::Load(std::string(text));
    return ParseDocument(root, reader, project_dir, ActiveProfiles(profiles, lookup));
  } catch (const YAML::Exception& e) {
    std::string where = file;
    if (!e.mark.is_null())
      where += ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1);
    return Error(ErrorKind::kUsage, where + ": invalid YAML: " + e.msg);
  }
}

Result<FleetSpec> LoadComposeFile(const ComposeOptions& options) {
  std::string file = options.file.empty() ? VK_TRY(FindComposeFile(options.dir)) : options.file;
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(file, ec);
  if (ec) return Error(ErrorKind::kUsage, file + ": " + ec.message());
  std::string project_dir = absolute.lexically_normal().parent_path().string();
  std::string text = VK_TRY(ReadUserTextFile(file, kMaxComposeFile));
  // .env is read with vk's environment only, and loses to it (compose's order).
  EnvEntries dotenv;
  std::string dotenv_path = project_dir + "/.env";
  if (std::filesystem::exists(dotenv_path, ec))
    dotenv = VK_TRY(ReadEnvFile(dotenv_path, options.environment));
  VariableLookup lookup = LayeredLookup(options.environment, std::move(dotenv));
  return ParseComposeText(text, file, project_dir, lookup, options.profiles);
}

}  // namespace vk::fleet
