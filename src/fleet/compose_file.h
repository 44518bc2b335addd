// Compose files (compose spec) read into a FleetSpec: found the way
// `docker compose` finds them (compose_discovery.h), parsed with yaml-cpp
// (whose exceptions stop here), merged in order (compose_merge.h),
// interpolated from vk's environment and the project's .env, checked key by
// key (compose_keys.h) and across services (fleet_validate.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "fleet/compose_discovery.h"
#include "fleet/fleet_spec.h"
#include "fleet/interpolation.h"

namespace vk::fleet {

struct ComposeOptions {
  // -f FILE...: merged in order; empty: ComposeFilePaths' other sources.
  std::vector<std::string> files;
  std::string dir = ".";  // where to look without -f and $COMPOSE_FILE
  // -p: the fleet's name; empty: $COMPOSE_PROJECT_NAME, name:, the first
  // file's directory (compose's precedence).
  std::string project_name;
  std::vector<std::string> profiles;                  // --profile; empty: $COMPOSE_PROFILES
  VariableLookup environment = ProcessEnvironment();  // tests pass their own
};

// The project directory is the first file's: relative paths in every file
// are resolved against it, and its .env is read (compose's rules).
Result<FleetSpec> LoadComposeFile(const ComposeOptions& options);

struct ComposeText {
  std::string file;  // its name in errors
  std::string text;
};

// Compose files' texts, merged in order, whose relative paths are resolved
// against `project_dir`; `lookup` already includes the .env. `project_name`
// as ComposeOptions'.
Result<FleetSpec> ParseComposeTexts(const std::vector<ComposeText>& texts,
                                    const std::string& project_dir, const VariableLookup& lookup,
                                    const std::vector<std::string>& profiles,
                                    const std::string& project_name = "");

// ParseComposeTexts of one file.
Result<FleetSpec> ParseComposeText(std::string_view text, const std::string& file,
                                   const std::string& project_dir, const VariableLookup& lookup,
                                   const std::vector<std::string>& profiles);

}  // namespace vk::fleet
