// The service keys that refer to the host: build contexts, env files, bind
// mounts and published ports.
#include "fleet/bind_mount.h"
#include "fleet/compose_service_parts.h"
#include "fleet/port_mapping.h"

namespace vk::fleet {
namespace {

Result<void> BuildContext(ServiceParse& p, const YAML::Node& node, BuildSpec& build) {
  std::string context = VK_TRY(p.reader.String(node, "build.context"));
  if (context.find("://") != std::string::npos || context.rfind("git@", 0) == 0)
    return p.reader.At(node, "build.context: remote build contexts are not supported yet");
  build.context = ResolveHostPath(context.empty() ? "." : context, p.project_dir);
  return Ok();
}

Result<PortMapping> LongPort(ServiceParse& p, const YAML::Node& node) {
  std::string target, published, host_ip, protocol;
  for (const MapEntry& e : VK_TRY(p.reader.Map(node, "ports entry"))) {
    if (!VK_TRY(CheckKey(p, e, KeyScope::kPort, "ports"))) continue;
    std::string value = VK_TRY(p.reader.String(e.value, "ports." + e.key));
    if (e.key == "target") target = value;
    if (e.key == "published") published = value;
    if (e.key == "host_ip") host_ip = value;
    if (e.key == "protocol") protocol = value;
  }
  if (target.empty()) return p.reader.At(node, "ports entry needs a target");
  auto port = MakePortMapping(target, published, host_ip, protocol);
  if (!port.ok()) return p.reader.At(node, port.error());
  return port;
}

Result<BindMount> LongVolume(ServiceParse& p, const YAML::Node& node) {
  std::string type, source, target;
  bool read_only = false;
  for (const MapEntry& e : VK_TRY(p.reader.Map(node, "volumes entry"))) {
    if (!VK_TRY(CheckKey(p, e, KeyScope::kVolume, "volumes"))) continue;
    if (e.key == "bind") {
      for (const MapEntry& b : VK_TRY(p.reader.Map(e.value, "volumes.bind")))
        VK_TRY(CheckKey(p, b, KeyScope::kVolumeBind, "volumes.bind"));
    } else if (e.key == "read_only") {
      read_only = VK_TRY(p.reader.Bool(e.value, "volumes.read_only"));
    } else {
      std::string value = VK_TRY(p.reader.String(e.value, "volumes." + e.key));
      if (e.key == "type") type = value;
      if (e.key == "source") source = value;
      if (e.key == "target") target = value;
    }
  }
  if (type == "volume") return p.reader.At(node, VolumeNotSupported(source));
  if (type != "bind") {
    return p.reader.At(node, type.empty() ? std::string("volumes entry needs a type (bind)")
                                          : "volumes of type " + type + " are not supported yet");
  }
  if (source.empty()) return p.reader.At(node, "a bind volume needs a source");
  if (target.empty() || target[0] != '/')
    return p.reader.At(node, "a bind volume needs an absolute target");
  return BindMount{ResolveHostPath(source, p.project_dir), target, read_only};
}

Result<void> EnvFile(ServiceParse& p, const YAML::Node& node) {
  std::string path;
  bool required = true;
  if (node.IsMap()) {
    for (const MapEntry& e : VK_TRY(p.reader.Map(node, "env_file entry"))) {
      if (!VK_TRY(CheckKey(p, e, KeyScope::kEnvFile, "env_file"))) continue;
      if (e.key == "path") path = VK_TRY(p.reader.String(e.value, "env_file.path"));
      if (e.key == "required") required = VK_TRY(p.reader.Bool(e.value, "env_file.required"));
    }
    if (path.empty()) return p.reader.At(node, "env_file entry needs a path");
  } else {
    path = VK_TRY(p.reader.String(node, "env_file"));
  }
  path = ResolveHostPath(path, p.project_dir);
  auto entries = ReadEnvFile(path, p.reader.lookup());
  if (!entries.ok() && entries.error().kind() == ErrorKind::kNotFound && !required) return Ok();
  if (!entries.ok()) return p.reader.At(node, entries.error());
  p.service.env_files.push_back(path);
  for (auto& entry : *entries) p.env_file_entries.push_back(std::move(entry));
  return Ok();
}

}  // namespace

Result<void> ParseBuild(ServiceParse& p, const YAML::Node& node) {
  BuildSpec build;
  build.dockerfile = "Dockerfile";
  build.context = p.project_dir;
  if (node.IsScalar()) {
    VK_TRY(BuildContext(p, node, build));
    p.service.build = std::move(build);
    return Ok();
  }
  for (const MapEntry& e : VK_TRY(p.reader.Map(node, "build"))) {
    if (!VK_TRY(CheckKey(p, e, KeyScope::kBuild, "build"))) continue;
    if (e.key == "context") VK_TRY(BuildContext(p, e.value, build));
    if (e.key == "dockerfile")
      build.dockerfile = VK_TRY(p.reader.String(e.value, "build.dockerfile"));
    if (e.key == "target") build.target = VK_TRY(p.reader.String(e.value, "build.target"));
    if (e.key != "args") continue;
    for (auto& [key, value] : VK_TRY(p.reader.KeyValueList(e.value, "build.args"))) {
      // A bare arg takes vk's environment's value; unset, the Dockerfile's default.
      std::optional<std::string> resolved = value ? value : p.reader.lookup()(key);
      if (resolved) build.args[key] = *resolved;
    }
  }
  p.service.build = std::move(build);
  return Ok();
}

Result<void> ParsePorts(ServiceParse& p, const YAML::Node& node) {
  if (!node.IsSequence()) return p.reader.At(node, "ports must be a list");
  for (const YAML::Node& item : node) {
    if (item.IsMap()) {
      p.service.ports.push_back(VK_TRY(LongPort(p, item)));
      continue;
    }
    auto port = ParsePortMapping(VK_TRY(p.reader.String(item, "ports entry")));
    if (!port.ok()) return p.reader.At(item, port.error());
    p.service.ports.push_back(*port);
  }
  return Ok();
}

Result<void> ParseVolumes(ServiceParse& p, const YAML::Node& node) {
  if (!node.IsSequence()) return p.reader.At(node, "volumes must be a list");
  for (const YAML::Node& item : node) {
    if (item.IsMap()) {
      p.service.volumes.push_back(VK_TRY(LongVolume(p, item)));
      continue;
    }
    auto mount = ParseBindMount(VK_TRY(p.reader.String(item, "volumes entry")), p.project_dir);
    if (!mount.ok()) return p.reader.At(item, mount.error());
    p.service.volumes.push_back(*mount);
  }
  return Ok();
}

Result<void> ParseEnvFiles(ServiceParse& p, const YAML::Node& node) {
  if (!node.IsSequence()) return EnvFile(p, node);
  for (const YAML::Node& item : node) VK_TRY(EnvFile(p, item));
  return Ok();
}

}  // namespace vk::fleet
