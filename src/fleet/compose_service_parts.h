// The parsers of compose_service.cc's structured keys, one per key, sharing
// the state of the service being read. Internal to the compose parser.
#pragma once

#include <optional>
#include <string>

#include "fleet/compose_keys.h"
#include "fleet/compose_reader.h"
#include "fleet/env_file.h"
#include "fleet/fleet_spec.h"

namespace vk::fleet {

struct ServiceParse {
  ComposeReader& reader;
  const std::string& project_dir;
  ServiceSpec& service;
  // environment: applied over the env_file entries once every key is read,
  // whatever their order in the file.
  KeyValues environment;
  EnvEntries env_file_entries;
  // mem_limit/cpus and deploy.resources.limits must agree when both are set.
  std::optional<double> cpus, limit_cpus;
  std::optional<uint64_t> memory, limit_memory;
  YAML::Node deploy_node;
};

// Refuses `key` in `scope_name` (e.g. "healthcheck") with a suggestion.
Error UnknownKey(ServiceParse& p, const MapEntry& entry, std::string_view scope_name,
                 const std::vector<std::string>& known);

// A key of a nested mapping (`path` e.g. "deploy.resources"): true when it is
// supported and the caller reads it; an ignored key is warned about
// ("ignored: deploy.mode (...)"), a not-yet or unknown key is an error.
Result<bool> CheckKey(ServiceParse& p, const MapEntry& entry, KeyScope scope,
                      std::string_view path);

Result<void> ParseBuild(ServiceParse& p, const YAML::Node& node);
Result<void> ParsePorts(ServiceParse& p, const YAML::Node& node);
Result<void> ParseVolumes(ServiceParse& p, const YAML::Node& node);
Result<void> ParseDependsOn(ServiceParse& p, const YAML::Node& node);
Result<void> ParseHealthcheck(ServiceParse& p, const YAML::Node& node);
Result<void> ParseDeploy(ServiceParse& p, const YAML::Node& node);
Result<void> ParseEnvFiles(ServiceParse& p, const YAML::Node& node);
Result<void> ParseVirtkit(ServiceParse& p, const YAML::Node& node);

}  // namespace vk::fleet
