#include "fleet/compose_service.h"

#include <map>

#include "base/names.h"
#include "build/shell_words.h"
#include "build/suggest.h"
#include "fleet/compose_keys.h"
#include "fleet/compose_service_parts.h"
#include "fleet/service_values.h"

namespace vk::fleet {
namespace {

using Handler = Result<void> (*)(ServiceParse&, const YAML::Node&);

// compose's command and entrypoint: a string is split into words as a shell
// would (quotes, no expansion: interpolation already happened); "" or []
// clears the image's value.
Result<std::vector<std::string>> CommandWords(ServiceParse& p, const YAML::Node& node,
                                              std::string_view what) {
  if (node.IsSequence()) return p.reader.Strings(node, what);
  std::string text = VK_TRY(p.reader.String(node, what));
  build::ShellWordOptions options;
  options.skip_unset = true;  // "$HOME" reaches the guest as written
  auto words = build::ExpandWords(text, build::NoVariables(), options);
  if (!words.ok()) return p.reader.At(node, words.error());
  return words;
}

Result<void> ParseCommand(ServiceParse& p, const YAML::Node& node) {
  if (!node.IsNull()) p.service.command = VK_TRY(CommandWords(p, node, "command"));
  return Ok();
}

Result<void> ParseEntrypoint(ServiceParse& p, const YAML::Node& node) {
  if (!node.IsNull()) p.service.entrypoint = VK_TRY(CommandWords(p, node, "entrypoint"));
  return Ok();
}

Result<void> ParseImage(ServiceParse& p, const YAML::Node& node) {
  p.service.image = VK_TRY(p.reader.String(node, "image"));
  if (p.service.image.empty()) return p.reader.At(node, "image must not be empty");
  return Ok();
}

Result<void> ParseEnvironment(ServiceParse& p, const YAML::Node& node) {
  p.environment = VK_TRY(p.reader.KeyValueList(node, "environment"));
  return Ok();
}

Result<void> ParseWorkingDir(ServiceParse& p, const YAML::Node& node) {
  p.service.working_dir = VK_TRY(p.reader.String(node, "working_dir"));
  if (!p.service.working_dir.empty() && p.service.working_dir[0] != '/')
    return p.reader.At(node, "working_dir must be an absolute guest path");
  return Ok();
}

Result<void> ParseUser(ServiceParse& p, const YAML::Node& node) {
  p.service.user = VK_TRY(p.reader.String(node, "user"));
  return Ok();
}

Result<void> ParseHostname(ServiceParse& p, const YAML::Node& node) {
  p.service.hostname = VK_TRY(p.reader.String(node, "hostname"));
  auto valid = CheckHostname(p.service.hostname);
  if (!valid.ok()) return p.reader.At(node, valid.error());
  return Ok();
}

Result<void> ParseRestart(ServiceParse& p, const YAML::Node& node) {
  auto policy = ParseRestartPolicy(VK_TRY(p.reader.String(node, "restart")));
  if (!policy.ok()) return p.reader.At(node, policy.error());
  p.service.restart = *policy;
  return Ok();
}

Result<void> ParseCpusKey(ServiceParse& p, const YAML::Node& node) {
  auto cpus = ParseCpus(VK_TRY(p.reader.String(node, "cpus")));
  if (!cpus.ok()) return p.reader.At(node, cpus.error());
  p.cpus = *cpus;
  return Ok();
}

Result<void> ParseMemLimit(ServiceParse& p, const YAML::Node& node) {
  auto bytes = ParseByteSize(VK_TRY(p.reader.String(node, "mem_limit")));
  if (!bytes.ok()) return p.reader.At(node, bytes.error());
  p.memory = *bytes;
  return Ok();
}

Result<void> ParseProfiles(ServiceParse& p, const YAML::Node& node) {
  p.service.profiles = VK_TRY(p.reader.Strings(node, "profiles"));
  for (const std::string& profile : p.service.profiles) {
    if (!CheckName(profile, NameKind::kVm).ok())
      return p.reader.At(node, "invalid profile name \"" + profile + "\"");
  }
  return Ok();
}

// Service networks are accepted when they name only the default network:
// every service is on the one fleet LAN anyway.
Result<void> ParseNetworks(ServiceParse& p, const YAML::Node& node) {
  std::vector<std::string> names;
  if (node.IsSequence()) {
    names = VK_TRY(p.reader.Strings(node, "networks"));
  } else {
    for (const MapEntry& entry : VK_TRY(p.reader.Map(node, "networks"))) names.push_back(entry.key);
  }
  for (const std::string& name : names) {
    if (name != "default") {
      p.reader.Warn("ignored: networks (" +
                    std::string(FindComposeKey(KeyScope::kService, "networks")->why) + ")");
    }
  }
  return Ok();
}

const std::map<std::string_view, Handler>& Handlers() {
  static const std::map<std::string_view, Handler> handlers = {
      {"build", &ParseBuild},
      {"command", &ParseCommand},
      {"cpus", &ParseCpusKey},
      {"depends_on", &ParseDependsOn},
      {"deploy", &ParseDeploy},
      {"entrypoint", &ParseEntrypoint},
      {"env_file", &ParseEnvFiles},
      {"environment", &ParseEnvironment},
      {"healthcheck", &ParseHealthcheck},
      {"hostname", &ParseHostname},
      {"image", &ParseImage},
      {"mem_limit", &ParseMemLimit},
      {"networks", &ParseNetworks},
      {"ports", &ParsePorts},
      {"profiles", &ParseProfiles},
      {"restart", &ParseRestart},
      {"user", &ParseUser},
      {"volumes", &ParseVolumes},
      {"working_dir", &ParseWorkingDir},
      {"x-virtkit", &ParseVirtkit},
  };
  return handlers;
}

Result<void> ParseKey(ServiceParse& p, const MapEntry& entry) {
  auto handler = Handlers().find(entry.key);
  if (handler != Handlers().end()) return handler->second(p, entry.value);
  if (entry.key.rfind("x-", 0) == 0) return Ok();  // compose extensions are for other tools
  const ComposeKey* key = FindComposeKey(KeyScope::kService, entry.key);
  if (key == nullptr) return UnknownKey(p, entry, "", ComposeKeyNames(KeyScope::kService));
  if (key->support == KeySupport::kNotYet)
    return p.reader.At(entry.key_node, entry.key + ": " + std::string(key->why));
  if (key->support == KeySupport::kIgnored)
    p.reader.Warn("ignored: " + entry.key + " (" + std::string(key->why) + ")");
  return Ok();
}

// Settings that depend on several keys, applied after all are read.
Result<void> Finish(ServiceParse& p) {
  ServiceSpec& s = p.service;
  for (auto& [key, value] : p.env_file_entries) s.environment[key] = value;
  for (auto& [key, value] : p.environment) {
    std::optional<std::string> resolved = value ? value : p.reader.lookup()(key);
    if (resolved)
      s.environment[key] = *resolved;
    else
      s.environment.erase(key);  // compose leaves out a bare, unset variable
  }
  if (p.cpus && p.limit_cpus && *p.cpus != *p.limit_cpus)
    return p.reader.At(p.deploy_node, "cpus and deploy.resources.limits.cpus differ");
  if (p.memory && p.limit_memory && *p.memory != *p.limit_memory)
    return p.reader.At(p.deploy_node, "mem_limit and deploy.resources.limits.memory differ");
  s.cpus = p.cpus.value_or(p.limit_cpus.value_or(0));
  s.memory_bytes = p.memory.value_or(p.limit_memory.value_or(0));
  return Ok();
}

}  // namespace

Error UnknownKey(ServiceParse& p, const MapEntry& entry, std::string_view scope_name,
                 const std::vector<std::string>& known) {
  std::string scope = scope_name.empty() ? "" : std::string(scope_name) + " of ";
  return p.reader.At(entry.key_node, "unknown key \"" + entry.key + "\" in " + scope +
                                         "service \"" + p.service.name + "\"" +
                                         build::DidYouMean(entry.key, known));
}

Result<bool> CheckKey(ServiceParse& p, const MapEntry& entry, KeyScope scope,
                      std::string_view path) {
  const ComposeKey* key = FindComposeKey(scope, entry.key);
  if (key == nullptr) return UnknownKey(p, entry, path, ComposeKeyNames(scope));
  std::string name = std::string(path) + "." + entry.key;
  switch (key->support) {
    case KeySupport::kSupported: return true;
    case KeySupport::kIgnored:
      p.reader.Warn("ignored: " + name + " (" + std::string(key->why) + ")");
      return false;
    case KeySupport::kNotYet:
      return p.reader.At(entry.key_node, name + ": " + std::string(key->why));
  }
  return false;
}

Result<ServiceSpec> ParseComposeService(ComposeReader& reader, const MapEntry& entry,
                                        const std::string& project_dir) {
  ServiceSpec service;
  service.name = entry.key;
  service.where = reader.Line(entry.key_node);
  auto valid = CheckName(service.name, NameKind::kVm);
  if (!valid.ok()) return reader.At(entry.key_node, "service: " + valid.error().message());
  ServiceParse p{reader, project_dir, service};
  // `web:` with nothing under it is a service without an image: refused by
  // validation, with its line, rather than as "not a mapping".
  if (!entry.value.IsNull()) {
    for (const MapEntry& key : VK_TRY(reader.Map(entry.value, "service " + service.name))) {
      VK_TRY(ParseKey(p, key));
    }
  }
  VK_TRY(Finish(p));
  return service;
}

}  // namespace vk::fleet
