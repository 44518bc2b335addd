// Several compose files as one fleet: `vk fleet -f compose.yaml -f
// compose.prod.yaml` merges the second over the first, and so on, by the
// compose spec's merge rules (listed in compose_merge.cc; docs/fleet.md,
// "Several files"). The merge works on each file's parsed YAML before any of
// it is read into a FleetSpec, as compose does.
#pragma once

#include <yaml-cpp/yaml.h>

#include <vector>

#include "base/result.h"
#include "fleet/compose_reader.h"

namespace vk::fleet {

// The documents of the files, in order, each merged over what those before
// it merged to. None is changed: the result shares their nodes, and the
// nodes it makes are registered with reader.origins(), so that what is read
// from the result is located in the file it came from. Values are compared
// interpolated (through `reader`, which warns about unset variables).
// kUsage errors name the file, line and key.
Result<YAML::Node> MergeComposeDocuments(const std::vector<YAML::Node>& documents,
                                         ComposeReader& reader);

}  // namespace vk::fleet
