#include "fleet/fleet_yaml.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>

#include "fleet/service_values.h"

namespace vk::fleet {
namespace {

// A plain scalar that YAML would read as a number, bool or null is quoted,
// so reading the output back gives the same strings ("no", "1", "").
bool LooksTyped(const std::string& text) {
  static const char* const kWords[] = {"y",     "Y",     "yes",  "Yes",  "YES",  "n",    "N",
                                       "no",    "No",    "NO",   "true", "True", "TRUE", "false",
                                       "False", "FALSE", "on",   "On",   "ON",   "off",  "Off",
                                       "OFF",   "null",  "Null", "NULL", "~"};
  if (text.empty()) return true;
  for (const char* word : kWords) {
    if (text == word) return true;
  }
  char* end = nullptr;
  std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() || text[0] == '.' || text[0] == '0';
}

// Every string is written with $ doubled: what config prints is read back
// with interpolation, which must give the same value.
void Str(YAML::Emitter& out, const std::string& text) {
  std::string escaped;
  for (char c : text) escaped += c == '$' ? "$$" : std::string(1, c);
  if (LooksTyped(escaped)) out << YAML::DoubleQuoted;
  out << escaped;
}

void StrList(YAML::Emitter& out, const std::vector<std::string>& list, bool flow = true) {
  if (flow) out << YAML::Flow;
  out << YAML::BeginSeq;
  for (const std::string& item : list) Str(out, item);
  out << YAML::EndSeq;
}

void Key(YAML::Emitter& out, const char* key) { out << YAML::Key << key << YAML::Value; }

// Go's time.Duration format, as compose prints durations: "1m30s", "500ms".
std::string DurationText(std::chrono::nanoseconds duration) {
  int64_t ns = duration.count();
  if (ns == 0) return "0s";
  auto unit = [](int64_t value, int64_t scale, const char* suffix) {
    std::string text = std::to_string(value / scale);
    if (int64_t frac = value % scale) {
      std::string digits = std::to_string(frac + scale).substr(1);
      while (digits.back() == '0') digits.pop_back();
      text += "." + digits;
    }
    return text + suffix;
  };
  if (ns < 1000) return std::to_string(ns) + "ns";
  if (ns < 1000000) return unit(ns, 1000, "us");
  if (ns < 1000000000) return unit(ns, 1000000, "ms");
  int64_t hours = ns / 3600000000000, minutes = ns / 60000000000 % 60;
  std::string text;
  if (hours) text += std::to_string(hours) + "h";
  if (hours || minutes) text += std::to_string(minutes) + "m";
  return text + unit(ns % 60000000000, 1000000000, "s");
}

std::string Range(uint16_t first, uint16_t last) {
  return first == last ? std::to_string(first) : std::to_string(first) + "-" + std::to_string(last);
}

void EmitBuild(YAML::Emitter& out, const BuildSpec& build) {
  out << YAML::BeginMap;
  Key(out, "context");
  Str(out, build.context);
  Key(out, "dockerfile");
  Str(out, build.dockerfile);
  if (!build.args.empty()) {
    Key(out, "args");
    out << YAML::BeginMap;
    for (const auto& [key, value] : build.args) {
      Key(out, key.c_str());
      Str(out, value);
    }
    out << YAML::EndMap;
  }
  if (!build.target.empty()) {
    Key(out, "target");
    Str(out, build.target);
  }
  out << YAML::EndMap;
}

void EmitPorts(YAML::Emitter& out, const std::vector<PortMapping>& ports) {
  out << YAML::BeginSeq;
  for (const PortMapping& port : ports) {
    out << YAML::BeginMap;
    Key(out, "target");
    if (port.target_first == port.target_last)
      out << port.target_first;
    else
      Str(out, Range(port.target_first, port.target_last));
    if (port.published_first) {
      Key(out, "published");
      out << YAML::DoubleQuoted << Range(port.published_first, port.published_last);
    }
    if (!port.host_ip.empty()) {
      Key(out, "host_ip");
      Str(out, port.host_ip);
    }
    Key(out, "protocol");
    out << port.protocol << YAML::EndMap;
  }
  out << YAML::EndSeq;
}

void EmitVolumes(YAML::Emitter& out, const std::vector<BindMount>& volumes) {
  out << YAML::BeginSeq;
  for (const BindMount& mount : volumes) {
    out << YAML::BeginMap;
    Key(out, "type");
    out << "bind";
    Key(out, "source");
    Str(out, mount.source);
    Key(out, "target");
    Str(out, mount.target);
    Key(out, "read_only");
    out << mount.read_only << YAML::EndMap;
  }
  out << YAML::EndSeq;
}

void EmitDependsOn(YAML::Emitter& out, const std::vector<Dependency>& depends_on) {
  out << YAML::BeginMap;
  for (const Dependency& d : depends_on) {
    Key(out, d.service.c_str());
    out << YAML::BeginMap;
    Key(out, "condition");
    out << std::string(DependConditionName(d.condition));
    Key(out, "required");
    out << d.required;
    Key(out, "restart");
    out << d.restart << YAML::EndMap;
  }
  out << YAML::EndMap;
}

void EmitHealthcheck(YAML::Emitter& out, const Healthcheck& check) {
  out << YAML::BeginMap;
  if (check.kind == HealthTestKind::kNone) {
    Key(out, "disable");
    out << true << YAML::EndMap;
    return;
  }
  if (!check.test.empty()) {
    std::vector<std::string> test = {check.kind == HealthTestKind::kCmd ? "CMD" : "CMD-SHELL"};
    test.insert(test.end(), check.test.begin(), check.test.end());
    Key(out, "test");
    StrList(out, test);
  }
  // Unset timings stay unset: the image's HEALTHCHECK, known only at run
  // time, or docker's defaults fill them (fleet/image_healthcheck.h).
  const std::pair<const char*, std::chrono::nanoseconds> timings[] = {
      {"interval", check.interval},
      {"timeout", check.timeout},
      {"start_period", check.start_period},
      {"start_interval", check.start_interval}};
  for (const auto& [key, value] : timings) {
    if (value.count() <= 0) continue;
    Key(out, key);
    out << DurationText(value);
  }
  if (check.retries > 0) {
    Key(out, "retries");
    out << check.retries;
  }
  out << YAML::EndMap;
}

void EmitVirtkit(YAML::Emitter& out, const ServiceSpec& s) {
  out << YAML::BeginMap;
  Key(out, "dev");
  out << s.dev;
  Key(out, "autostart");
  out << s.autostart;
  Key(out, "control");
  out << s.control;
  if (!s.vm_symlinks.empty()) {
    Key(out, "vm-symlinks");
    out << YAML::BeginSeq;
    for (const VmSymlink& link : s.vm_symlinks) Str(out, link.host + ":" + link.guest);
    out << YAML::EndSeq;
  }
  out << YAML::EndMap;
}

void EmitOptional(YAML::Emitter& out, const char* key, const std::string& value) {
  if (value.empty()) return;
  Key(out, key);
  Str(out, value);
}

void EmitService(YAML::Emitter& out, const ServiceSpec& s) {
  out << YAML::BeginMap;
  EmitOptional(out, "image", s.image);
  if (s.build) {
    Key(out, "build");
    EmitBuild(out, *s.build);
  }
  if (s.entrypoint) {
    Key(out, "entrypoint");
    StrList(out, *s.entrypoint);
  }
  if (s.command) {
    Key(out, "command");
    StrList(out, *s.command);
  }
  if (!s.environment.empty()) {
    Key(out, "environment");
    out << YAML::BeginMap;
    for (const auto& [key, value] : s.environment) {
      Key(out, key.c_str());
      Str(out, value);
    }
    out << YAML::EndMap;
  }
  if (!s.env_files.empty()) {
    Key(out, "env_file");
    StrList(out, s.env_files, false);
  }
  if (!s.ports.empty()) {
    Key(out, "ports");
    EmitPorts(out, s.ports);
  }
  if (!s.volumes.empty()) {
    Key(out, "volumes");
    EmitVolumes(out, s.volumes);
  }
  EmitOptional(out, "working_dir", s.working_dir);
  EmitOptional(out, "user", s.user);
  EmitOptional(out, "hostname", s.hostname.empty() ? s.name : s.hostname);
  if (!s.depends_on.empty()) {
    Key(out, "depends_on");
    EmitDependsOn(out, s.depends_on);
  }
  if (s.healthcheck) {
    Key(out, "healthcheck");
    EmitHealthcheck(out, *s.healthcheck);
  }
  Key(out, "restart");
  Str(out, RestartPolicyText(s.restart));
  if (s.cpus > 0) {
    Key(out, "cpus");
    out << s.cpus;
  }
  if (s.memory_bytes > 0) {
    Key(out, "mem_limit");
    out << YAML::DoubleQuoted << std::to_string(s.memory_bytes);
  }
  if (!s.profiles.empty()) {
    Key(out, "profiles");
    StrList(out, s.profiles);
  }
  Key(out, "x-virtkit");
  EmitVirtkit(out, s);
  out << YAML::EndMap;
}

}  // namespace

std::string FleetToYaml(const FleetSpec& fleet) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  Key(out, "name");
  Str(out, fleet.name);
  Key(out, "services");
  out << YAML::BeginMap;
  for (const ServiceSpec& s : fleet.services) {
    Key(out, s.name.c_str());
    EmitService(out, s);
  }
  out << YAML::EndMap;
  if (!fleet.hosts.empty()) {
    Key(out, "x-virtkit");
    out << YAML::BeginMap;
    Key(out, "hosts");
    out << YAML::BeginMap;
    for (const auto& [name, ip] : fleet.hosts) {
      Key(out, name.c_str());
      Str(out, ip);
    }
    out << YAML::EndMap << YAML::EndMap;
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace vk::fleet
