#include "fleet/compose_file.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>

#include "base/strings.h"
#include "build/suggest.h"
#include "fleet/compose_keys.h"
#include "fleet/compose_merge.h"
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
                              const std::string& project_dir, const std::string& given) {
  // compose's precedence: -p, COMPOSE_PROJECT_NAME, name:, the directory.
  if (!given.empty()) {
    VK_TRY_CTX(CheckFleetName(given), "--project-name");
    return given;
  }
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
                                const std::vector<std::string>& profiles,
                                const std::string& project_name) {
  TopLevel top;
  for (const MapEntry& entry : VK_TRY(reader.Map(root, "the file")))
    VK_TRY(TopLevelKey(reader, entry, project_dir, top));
  if (top.services.empty())
    return Error(ErrorKind::kUsage, reader.origins().Files() + ": no services defined");
  FleetSpec fleet;
  fleet.name = VK_TRY(FleetName(reader, top, project_dir, project_name));
  fleet.source = reader.origins().Files();
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

Error InvalidYaml(const std::string& file, const YAML::Exception& e) {
  std::string where = file;
  if (!e.mark.is_null())
    where += ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1);
  return Error(ErrorKind::kUsage, where + ": invalid YAML: " + e.msg);
}

Result<YAML::Node> LoadDocument(const ComposeText& text) {
  try {
    YAML::Node root = YAML::Load(text.text);
    if (!root.IsMap()) {
      return Error(ErrorKind::kUsage,
                   text.file + ": not a compose file: expected a mapping with services:");
    }
    return root;
  } catch (const YAML::Exception& e) {
    return InvalidYaml(text.file, e);
  }
}

}  // namespace

Result<FleetSpec> ParseComposeTexts(const std::vector<ComposeText>& texts,
                                    const std::string& project_dir, const VariableLookup& lookup,
                                    const std::vector<std::string>& profiles,
                                    const std::string& project_name) {
  if (texts.empty()) return Error(ErrorKind::kUsage, "no compose file to read");
  std::vector<YAML::Node> roots;
  NodeOrigins origins(texts.front().file);
  for (const ComposeText& text : texts) {
    roots.push_back(VK_TRY(LoadDocument(text)));
    if (roots.size() > 1) origins.AddDocument(text.file, roots.back());
  }
  ComposeReader reader(std::move(origins), lookup);
  try {
    YAML::Node merged = VK_TRY(MergeComposeDocuments(roots, reader));
    return ParseDocument(merged, reader, project_dir, ActiveProfiles(profiles, lookup),
                         project_name);
  } catch (const YAML::Exception& e) {
    return InvalidYaml(reader.origins().Files(), e);
  }
}

Result<FleetSpec> ParseComposeText(std::string_view text, const std::string& file,
                                   const std::string& project_dir, const VariableLookup& lookup,
                                   const std::vector<std::string>& profiles) {
  return ParseComposeTexts({{file, std::string(text)}}, project_dir, lookup, profiles);
}

Result<FleetSpec> LoadComposeFile(const ComposeOptions& options) {
  std::vector<std::string> files =
      VK_TRY(ComposeFilePaths(options.files, options.dir, options.environment));
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(files.front(), ec);
  if (ec) return Error(ErrorKind::kUsage, files.front() + ": " + ec.message());
  std::string project_dir = absolute.lexically_normal().parent_path().string();
  std::vector<ComposeText> texts;
  for (const std::string& file : files) {
    // Read first: returning from VK_TRY inside the braces would skip
    // destroying the `file` copy already made (a leak ASan reports).
    std::string text = VK_TRY(ReadUserTextFile(file, kMaxComposeFile));
    texts.push_back({file, std::move(text)});
  }
  // .env is read with vk's environment only, and loses to it (compose's order).
  EnvEntries dotenv;
  std::string dotenv_path = project_dir + "/.env";
  if (std::filesystem::exists(dotenv_path, ec))
    dotenv = VK_TRY(ReadEnvFile(dotenv_path, options.environment));
  VariableLookup lookup = LayeredLookup(options.environment, std::move(dotenv));
  return ParseComposeTexts(texts, project_dir, lookup, options.profiles, options.project_name);
}

}  // namespace vk::fleet
