#include "fleet/compose_service_parts.h"

#include "build/go_duration.h"
#include "fleet/bind_mount.h"
#include "fleet/port_mapping.h"
#include "fleet/service_values.h"

namespace vk::fleet {
namespace {

Result<std::chrono::nanoseconds> Duration(ServiceParse& p, const YAML::Node& node,
                                          std::string_view what) {
  std::string text = VK_TRY(p.reader.String(node, what));
  auto duration = build::ParseGoDuration(text);
  if (!duration.ok())
    return p.reader.At(node, std::string(what) + ": " + duration.error().message());
  if (duration->count() < 0) return p.reader.At(node, std::string(what) + " must not be negative");
  return *duration;
}

Result<HealthTestKind> TestKind(ServiceParse& p, const YAML::Node& node, std::string_view first) {
  if (first == "CMD") return HealthTestKind::kCmd;
  if (first == "CMD-SHELL") return HealthTestKind::kCmdShell;
  if (first == "NONE") return HealthTestKind::kNone;
  return p.reader.At(node,
                     "healthcheck.test must start with CMD, CMD-SHELL or NONE (or be a "
                     "string: a shell command)");
}

Result<void> HealthTest(ServiceParse& p, const YAML::Node& node, Healthcheck& check) {
  if (node.IsScalar()) {
    check.kind = HealthTestKind::kCmdShell;
    check.test = {VK_TRY(p.reader.String(node, "healthcheck.test"))};
    return Ok();
  }
  std::vector<std::string> words = VK_TRY(p.reader.Strings(node, "healthcheck.test"));
  if (words.empty()) return p.reader.At(node, "healthcheck.test must not be empty");
  check.kind = VK_TRY(TestKind(p, node, words[0]));
  words.erase(words.begin());
  if (check.kind == HealthTestKind::kCmdShell && words.size() > 1) {
    std::string joined;  // docker runs CMD-SHELL's one string with sh -c
    for (const std::string& word : words) joined += (joined.empty() ? "" : " ") + word;
    words = {joined};
  }
  if (check.kind != HealthTestKind::kNone && words.empty())
    return p.reader.At(node,
                       "healthcheck.test has no command after " +
                           std::string(check.kind == HealthTestKind::kCmd ? "CMD" : "CMD-SHELL"));
  check.test = std::move(words);
  return Ok();
}

}  // namespace

Result<void> ParseHealthcheck(ServiceParse& p, const YAML::Node& node) {
  Healthcheck check;
  bool disable = false;
  for (const MapEntry& e : VK_TRY(p.reader.Map(node, "healthcheck"))) {
    if (!VK_TRY(CheckKey(p, e, KeyScope::kHealthcheck, "healthcheck"))) continue;
    const std::string what = "healthcheck." + e.key;
    if (e.key == "test")
      VK_TRY(HealthTest(p, e.value, check));
    else if (e.key == "interval")
      check.interval = VK_TRY(Duration(p, e.value, what));
    else if (e.key == "timeout")
      check.timeout = VK_TRY(Duration(p, e.value, what));
    else if (e.key == "start_period")
      check.start_period = VK_TRY(Duration(p, e.value, what));
    else if (e.key == "start_interval")
      check.start_interval = VK_TRY(Duration(p, e.value, what));
    else if (e.key == "retries")
      check.retries = static_cast<int>(VK_TRY(p.reader.Integer(e.value, what, 0, 1000000)));
    else if (e.key == "disable")
      disable = VK_TRY(p.reader.Bool(e.value, what));
  }
  if (disable) {
    check.kind = HealthTestKind::kNone;
    check.test.clear();
  }
  p.service.healthcheck = std::move(check);
  return Ok();
}

Result<void> ParseDependsOn(ServiceParse& p, const YAML::Node& node) {
  auto add = [&](const std::string& name, const YAML::Node& at) -> Result<Dependency*> {
    for (const Dependency& d : p.service.depends_on) {
      if (d.service == name) return p.reader.At(at, "depends_on names \"" + name + "\" twice");
    }
    Dependency& d = p.service.depends_on.emplace_back();
    d.service = name;
    d.where = p.reader.Line(at);
    return &d;
  };
  if (node.IsSequence()) {
    for (const YAML::Node& item : node)
      VK_TRY(add(VK_TRY(p.reader.String(item, "depends_on")), item));
    return Ok();
  }
  for (const MapEntry& entry : VK_TRY(p.reader.Map(node, "depends_on"))) {
    Dependency* d = VK_TRY(add(entry.key, entry.key_node));
    if (entry.value.IsNull()) continue;
    for (const MapEntry& e : VK_TRY(p.reader.Map(entry.value, "depends_on." + entry.key))) {
      if (!VK_TRY(CheckKey(p, e, KeyScope::kDependency, "depends_on." + entry.key))) continue;
      if (e.key == "required") d->required = VK_TRY(p.reader.Bool(e.value, "required"));
      if (e.key == "restart") d->restart = VK_TRY(p.reader.Bool(e.value, "restart"));
      if (e.key != "condition") continue;
      std::string condition = VK_TRY(p.reader.String(e.value, "condition"));
      if (condition == "service_started")
        d->condition = DependCondition::kStarted;
      else if (condition == "service_healthy")
        d->condition = DependCondition::kHealthy;
      else if (condition == "service_completed_successfully")
        d->condition = DependCondition::kCompletedSuccessfully;
      else
        return p.reader.At(e.value, "unknown condition \"" + condition +
                                        "\": use service_started, service_healthy or "
                                        "service_completed_successfully");
    }
  }
  return Ok();
}

Result<void> ParseDeploy(ServiceParse& p, const YAML::Node& node) {
  p.deploy_node = node;
  for (const MapEntry& e : VK_TRY(p.reader.Map(node, "deploy"))) {
    if (e.key == "replicas") {
      if (VK_TRY(p.reader.Integer(e.value, "deploy.replicas", 0, 1000000)) > 1)
        return p.reader.At(e.value,
                           "deploy.replicas: more than one VM per service is not supported yet");
      continue;
    }
    if (!VK_TRY(CheckKey(p, e, KeyScope::kDeploy, "deploy"))) continue;
    for (const MapEntry& r : VK_TRY(p.reader.Map(e.value, "deploy.resources"))) {
      if (!VK_TRY(CheckKey(p, r, KeyScope::kResources, "deploy.resources"))) continue;
      for (const MapEntry& l : VK_TRY(p.reader.Map(r.value, "deploy.resources.limits"))) {
        if (!VK_TRY(CheckKey(p, l, KeyScope::kLimits, "deploy.resources.limits"))) continue;
        std::string text = VK_TRY(p.reader.String(l.value, "deploy.resources.limits." + l.key));
        if (l.key == "cpus") {
          auto cpus = ParseCpus(text);
          if (!cpus.ok()) return p.reader.At(l.value, cpus.error());
          p.limit_cpus = *cpus;
        } else {
          auto bytes = ParseByteSize(text);
          if (!bytes.ok()) return p.reader.At(l.value, bytes.error());
          p.limit_memory = *bytes;
        }
      }
    }
  }
  return Ok();
}

Result<void> ParseVirtkit(ServiceParse& p, const YAML::Node& node) {
  for (const MapEntry& e : VK_TRY(p.reader.Map(node, "x-virtkit"))) {
    if (!VK_TRY(CheckKey(p, e, KeyScope::kVirtkit, "x-virtkit"))) continue;
    if (e.key == "dev") p.service.dev = VK_TRY(p.reader.Bool(e.value, "x-virtkit.dev"));
    if (e.key == "autostart")
      p.service.autostart = VK_TRY(p.reader.Bool(e.value, "x-virtkit.autostart"));
    if (e.key == "control") p.service.control = VK_TRY(p.reader.Bool(e.value, "x-virtkit.control"));
    if (e.key != "vm-symlinks") continue;
    if (!e.value.IsSequence())
      return p.reader.At(e.value, "x-virtkit.vm-symlinks must be a list of HOST:GUEST");
    for (const YAML::Node& item : e.value) {
      std::string text = VK_TRY(p.reader.String(item, "x-virtkit.vm-symlinks"));
      size_t colon = text.find(':');
      if (colon == 0 || colon == std::string::npos || colon + 1 >= text.size() ||
          text[colon + 1] != '/')
        return p.reader.At(item,
                           "vm-symlinks entry \"" + text + "\": write HOST:GUEST, GUEST absolute");
      p.service.vm_symlinks.push_back(
          {ResolveHostPath(text.substr(0, colon), p.project_dir), text.substr(colon + 1)});
    }
  }
  return Ok();
}

}  // namespace vk::fleet
