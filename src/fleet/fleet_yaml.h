// The resolved fleet as compose-style YAML, for `vk fleet config`: what the
// orchestrator will run, with interpolation, env files, relative paths and
// defaults already applied (like `docker compose config`).
#pragma once

#include <string>

#include "fleet/fleet_spec.h"

namespace vk::fleet {

std::string FleetToYaml(const FleetSpec& fleet);

}  // namespace vk::fleet
