#include "fleet/fleet_validate.h"

#include <algorithm>
#include <map>

#include "build/suggest.h"

namespace vk::fleet {
namespace {

// `where`: "FILE:LINE" of what is wrong, empty when it is not from a file.
Error Invalid(const std::string& where, const std::string& message) {
  return Error(ErrorKind::kUsage, (where.empty() ? "" : where + ": ") + message);
}

Result<void> CheckDependencies(const FleetSpec& fleet) {
  std::vector<std::string> names;
  for (const ServiceSpec& s : fleet.services) names.push_back(s.name);
  for (const ServiceSpec& s : fleet.services) {
    for (const Dependency& d : s.depends_on) {
      if (d.service == s.name)
        return Invalid(d.where, "service \"" + s.name + "\" depends on itself");
      if (!fleet.Find(d.service)) {
        return Invalid(d.where, "service \"" + s.name + "\" depends on undefined service \"" +
                                    d.service + "\"" + build::DidYouMean(d.service, names));
      }
    }
  }
  return Ok();
}

// Depth-first search; a service met again while on the stack closes a cycle.
class CycleFinder {
 public:
  explicit CycleFinder(const FleetSpec& fleet) : fleet_(fleet) {}

  Result<void> Run() {
    for (const ServiceSpec& s : fleet_.services) VK_TRY(Visit(s));
    return Ok();
  }

 private:
  enum class Mark { kNew, kOnStack, kDone };

  Result<void> Visit(const ServiceSpec& s) {
    Mark& mark = marks_[s.name];
    if (mark == Mark::kDone) return Ok();
    if (mark == Mark::kOnStack) {
      auto first = std::find(stack_.begin(), stack_.end(), s.name);
      std::string path;
      for (auto it = first; it != stack_.end(); ++it) path += *it + " -> ";
      return Invalid(s.where, "depends_on cycle: " + path + s.name);
    }
    mark = Mark::kOnStack;
    stack_.push_back(s.name);
    for (const Dependency& d : s.depends_on) VK_TRY(Visit(*fleet_.Find(d.service)));
    stack_.pop_back();
    marks_[s.name] = Mark::kDone;
    return Ok();
  }

  const FleetSpec& fleet_;
  std::map<std::string, Mark> marks_;
  std::vector<std::string> stack_;
};

Result<void> CheckDevVm(const FleetSpec& fleet) {
  const ServiceSpec* dev = nullptr;
  for (const ServiceSpec& s : fleet.services) {
    if (!s.dev) continue;
    if (dev) {
      return Invalid(s.where, "services \"" + dev->name + "\" and \"" + s.name +
                                  "\" are both x-virtkit dev: a fleet has one dev VM");
    }
    dev = &s;
  }
  return Ok();
}

bool Overlap(const PortMapping& a, const PortMapping& b) {
  return a.published_first != 0 && b.published_first != 0 && a.protocol == b.protocol &&
         (a.host_ip == b.host_ip || a.host_ip.empty() || b.host_ip.empty()) &&
         a.published_first <= b.published_last && b.published_first <= a.published_last;
}

Result<void> CheckPublishedPorts(const FleetSpec& fleet) {
  std::vector<std::pair<const ServiceSpec*, const PortMapping*>> seen;
  for (const ServiceSpec& s : fleet.services) {
    for (const PortMapping& port : s.ports) {
      for (auto& [other, other_port] : seen) {
        if (Overlap(port, *other_port)) {
          return Invalid(s.where, "host port " + std::to_string(port.published_first) + "/" +
                                      port.protocol + " is published by both \"" + other->name +
                                      "\" and \"" + s.name + "\"");
        }
      }
      seen.emplace_back(&s, &port);
    }
  }
  return Ok();
}

bool Enabled(const ServiceSpec& s, const std::vector<std::string>& active) {
  if (s.profiles.empty()) return true;
  for (const std::string& profile : active) {
    if (profile == "*" ||
        std::find(s.profiles.begin(), s.profiles.end(), profile) != s.profiles.end())
      return true;
  }
  return false;
}

// Disabled services stay in fleet.services (unmoved) until the end, so the
// error for a dependency on one can name its profile.
Result<void> ApplyProfiles(FleetSpec& fleet, const std::vector<std::string>& active) {
  std::vector<ServiceSpec> enabled;
  for (ServiceSpec& s : fleet.services) {
    if (Enabled(s, active)) enabled.push_back(std::move(s));
  }
  for (ServiceSpec& s : enabled) {
    std::vector<Dependency> kept;
    for (Dependency& d : s.depends_on) {
      auto on = std::find_if(enabled.begin(), enabled.end(),
                             [&](const ServiceSpec& e) { return e.name == d.service; });
      if (on != enabled.end()) {
        kept.push_back(std::move(d));
      } else if (d.required) {
        const ServiceSpec* off = fleet.Find(d.service);
        return Invalid(d.where, "service \"" + s.name + "\" depends on \"" + d.service +
                                    "\", which is not enabled: add --profile " +
                                    (off ? off->profiles.front() : d.service));
      }
    }
    s.depends_on = std::move(kept);
  }
  fleet.services = std::move(enabled);
  return Ok();
}

}  // namespace

Result<void> ValidateFleet(FleetSpec& fleet, const std::vector<std::string>& active_profiles) {
  std::sort(fleet.services.begin(), fleet.services.end(),
            [](const ServiceSpec& a, const ServiceSpec& b) { return a.name < b.name; });
  for (const ServiceSpec& s : fleet.services) {
    if (s.image.empty() && !s.build)
      return Invalid(s.where, "service \"" + s.name + "\" has neither image nor build");
  }
  VK_TRY(CheckDependencies(fleet));
  VK_TRY(CycleFinder(fleet).Run());
  VK_TRY(ApplyProfiles(fleet, active_profiles));
  VK_TRY(CheckDevVm(fleet));
  return CheckPublishedPorts(fleet);
}

}  // namespace vk::fleet
