#include "fleet/fleet_flags.h"

#include <arpa/inet.h>

#include <algorithm>
#include <filesystem>

#include "base/names.h"
#include "base/strings.h"
#include "build/suggest.h"
#include "fleet/bind_mount.h"
#include "fleet/fleet_name.h"
#include "fleet/fleet_validate.h"
#include "fleet/port_mapping.h"
#include "fleet/service_values.h"

namespace vk::fleet {
namespace {

constexpr char kDevName[] = "dev";
constexpr char kDevWorkdir[] = "/work";

// "port=8080" starts a setting; "80" (a value's continuation) does not.
bool StartsSetting(const std::string& segment) {
  size_t equals = segment.find('=');
  if (equals == std::string::npos) return false;
  const auto& keys = ServiceFlagKeys();
  return std::find(keys.begin(), keys.end(), segment.substr(0, equals)) != keys.end();
}

Result<void> ApplySetting(ServiceSpec& s, const std::string& key, const std::string& value,
                          const std::string& project_dir) {
  if (key == "port") {
    s.ports.push_back(VK_TRY(ParsePortMapping(value)));
  } else if (key == "env") {
    size_t equals = value.find('=');
    if (equals == 0 || equals == std::string::npos)
      return Error(ErrorKind::kUsage, "env=" + value + ": write env=NAME=VALUE");
    s.environment[value.substr(0, equals)] = value.substr(equals + 1);
  } else if (key == "volume") {
    s.volumes.push_back(VK_TRY(ParseBindMount(value, project_dir)));
  } else if (key == "restart") {
    s.restart = VK_TRY(ParseRestartPolicy(value));
  } else if (key == "cpus") {
    s.cpus = VK_TRY(ParseCpus(value));
  } else if (key == "mem") {
    s.memory_bytes = VK_TRY(ParseByteSize(value));
  } else if (key == "user") {
    s.user = value;
  } else if (key == "workdir") {
    if (value.empty() || value[0] != '/')
      return Error(ErrorKind::kUsage,
                   "workdir=" + value + ": the guest directory must be absolute");
    s.working_dir = value;
  } else if (key == "depends") {
    s.depends_on.push_back({.service = value});
  } else if (key == "autostart") {
    if (value != "true" && value != "false")
      return Error(ErrorKind::kUsage, "autostart=" + value + ": write true or false");
    s.autostart = value == "true";
  }
  return Ok();
}

Result<ServiceSpec> ParseServiceFlag(const std::string& text, const std::string& project_dir) {
  std::vector<std::string> segments = Split(text, ':');
  if (segments.size() < 2 || segments[0].empty() || segments[1].empty())
    return Error(ErrorKind::kUsage, "write NAME:IMAGE[:KEY=VALUE...]");
  ServiceSpec s;
  s.name = segments[0];
  VK_TRY(CheckName(s.name, NameKind::kVm));
  size_t i = 1;
  for (; i < segments.size() && !StartsSetting(segments[i]); ++i) {
    if (segments[i].find('=') != std::string::npos) {
      std::string key = segments[i].substr(0, segments[i].find('='));
      return Error(ErrorKind::kUsage,
                   "unknown setting \"" + key + "\"" + build::DidYouMean(key, ServiceFlagKeys()));
    }
    s.image += (s.image.empty() ? "" : ":") + segments[i];
  }
  while (i < segments.size()) {
    size_t equals = segments[i].find('=');
    std::string key = segments[i].substr(0, equals), value = segments[i].substr(equals + 1);
    for (++i; i < segments.size() && !StartsSetting(segments[i]); ++i) {
      value += ":" + segments[i];
    }
    VK_TRY_CTX(ApplySetting(s, key, value, project_dir), key);
  }
  return s;
}

Result<void> AddHost(FleetSpec& fleet, const std::string& text) {
  size_t equals = text.find('=');
  if (equals == 0 || equals == std::string::npos)
    return Error(ErrorKind::kUsage, "--hosts " + text + ": write NAME=IP");
  std::string name = text.substr(0, equals), ip = text.substr(equals + 1);
  VK_TRY_CTX(CheckHostname(name), "--hosts " + text);
  unsigned char buffer[16];
  if (::inet_pton(AF_INET, ip.c_str(), buffer) != 1 &&
      ::inet_pton(AF_INET6, ip.c_str(), buffer) != 1)
    return Error(ErrorKind::kUsage, "--hosts " + text + ": \"" + ip + "\" is not an IP address");
  fleet.hosts[name] = ip;
  return Ok();
}

Result<std::string> FleetName(const FleetFlags& flags, const std::string& project_dir) {
  if (!flags.name.empty()) {
    VK_TRY(CheckFleetName(flags.name));
    return flags.name;
  }
  std::string name = NormalizeFleetName(std::filesystem::path(project_dir).filename().string());
  VK_TRY_CTX(CheckFleetName(name), "fleet name from directory " + project_dir);
  return name;
}

}  // namespace

const std::vector<std::string>& ServiceFlagKeys() {
  static const std::vector<std::string> keys = {"port", "env",  "volume",  "restart", "cpus",
                                                "mem",  "user", "workdir", "depends", "autostart"};
  return keys;
}

Result<FleetSpec> FleetFromFlags(const FleetFlags& flags, const std::string& project_dir) {
  FleetSpec fleet;
  fleet.source = "command line";
  fleet.project_dir = project_dir;
  fleet.name = VK_TRY(FleetName(flags, project_dir));
  if (!flags.workdir.empty() && flags.vm.empty())
    return Error(ErrorKind::kUsage, "--workdir needs --vm: it is shared into the dev VM");
  if (!flags.vm.empty()) {
    ServiceSpec& dev = fleet.services.emplace_back();
    dev.name = kDevName;
    dev.image = flags.vm;
    dev.dev = true;
    if (!flags.workdir.empty()) {
      dev.volumes.push_back({ResolveHostPath(flags.workdir, project_dir), kDevWorkdir, false});
      dev.working_dir = kDevWorkdir;
    }
  }
  for (const std::string& text : flags.services) {
    ServiceSpec s = VK_TRY_CTX(ParseServiceFlag(text, project_dir), "--service " + text);
    if (fleet.Find(s.name)) {
      return Error(ErrorKind::kUsage, "--service " + text + ": the name \"" + s.name +
                                          "\" is taken" +
                                          (s.name == kDevName ? " by the --vm dev VM" : ""));
    }
    fleet.services.push_back(std::move(s));
  }
  for (const std::string& host : flags.hosts) VK_TRY(AddHost(fleet, host));
  if (fleet.services.empty())
    return Error(ErrorKind::kUsage, "a fleet needs --vm IMAGE or at least one --service");
  VK_TRY(ValidateFleet(fleet, {}));
  return fleet;
}

}  // namespace vk::fleet
