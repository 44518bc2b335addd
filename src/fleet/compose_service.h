// One entry of a compose file's `services:` into a ServiceSpec. Keys are
// classified by compose_keys.h: supported ones are read, ignored ones warned
// about, not-yet ones refused, unknown ones refused with a suggestion.
#pragma once

#include <string>

#include "base/result.h"
#include "fleet/compose_reader.h"
#include "fleet/fleet_spec.h"

namespace vk::fleet {

// `project_dir` resolves relative paths (build context, bind mounts,
// env_file). Cross-service checks are fleet_validate.h's.
Result<ServiceSpec> ParseComposeService(ComposeReader& reader, const MapEntry& entry,
                                        const std::string& project_dir);

}  // namespace vk::fleet
