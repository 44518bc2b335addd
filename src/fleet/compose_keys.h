// Which compose-spec keys a fleet honours. Every key of the compose spec's
// service and top-level schemas is listed, so a key missing here is a typo
// or from a newer spec and is refused (with a suggestion), never dropped.
// docs/fleet.md has the same table for users; keep them in step.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vk::fleet {

enum class KeySupport {
  kSupported,
  // Means nothing for a VM, or is harmless to skip: a warning, once per key.
  kIgnored,
  // Would change what the service does, but vk cannot do it yet: an error.
  kNotYet,
};

struct ComposeKey {
  std::string_view name;
  KeySupport support;
  std::string_view why;  // for kIgnored and kNotYet: shown to the user
};

// Where a key is written: the top level, a service, or a service's nested
// mappings (deploy, deploy.resources, deploy.resources.limits, build, the
// long syntaxes of ports, volumes, depends_on and env_file, healthcheck, and
// our own x-virtkit).
enum class KeyScope {
  kTopLevel,
  kService,
  kDeploy,
  kResources,
  kLimits,
  kBuild,
  kHealthcheck,
  kPort,
  kVolume,
  kVolumeBind,
  kDependency,
  kEnvFile,
  kVirtkit,
};

// nullptr: not a compose key in that scope.
const ComposeKey* FindComposeKey(KeyScope scope, std::string_view name);

// Every key of a scope, for did-you-mean suggestions.
std::vector<std::string> ComposeKeyNames(KeyScope scope);

}  // namespace vk::fleet
