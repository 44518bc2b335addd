// A compose file (compose spec) read into a FleetSpec: found the way
// `docker compose` finds it, interpolated from vk's environment and the
// project's .env, parsed with yaml-cpp (whose exceptions stop here), checked
// key by key (compose_keys.h) and across services (fleet_validate.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "fleet/fleet_spec.h"
#include "fleet/interpolation.h"

namespace vk::fleet {

struct ComposeOptions {
  std::string file;                                   // -f FILE; empty: FindComposeFile(dir)
  std::string dir = ".";                              // where to look without -f
  std::vector<std::string> profiles;                  // --profile; empty: $COMPOSE_PROFILES
  VariableLookup environment = ProcessEnvironment();  // tests pass their own
};

// The names compose looks for, in its order of precedence.
inline constexpr std::string_view kComposeFileNames[] = {
    "compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"};

// The first of kComposeFileNames in `dir`; kNotFound naming them otherwise.
Result<std::string> FindComposeFile(const std::string& dir);

Result<FleetSpec> LoadComposeFile(const ComposeOptions& options);

// The text of a compose file named `file` (in errors) whose relative paths
// are resolved against `project_dir`; `lookup` already includes the .env.
Result<FleetSpec> ParseComposeText(std::string_view text, const std::string& file,
                                   const std::string& project_dir, const VariableLookup& lookup,
                                   const std::vector<std::string>& profiles);

}  // namespace vk::fleet
