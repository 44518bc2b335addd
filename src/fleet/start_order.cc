#include "fleet/start_order.h"

#include <algorithm>
#include <map>
#include <set>

namespace vk::fleet {
namespace {

using NameSet = std::set<std::string>;

// The dependencies of `s` that take part in ordering: those in the spec.
// Validation guarantees required ones are; a non-required one may have been
// removed by profiles and is then skipped.
std::vector<std::string> PresentDependencies(const FleetSpec& spec, const ServiceSpec& s) {
  std::vector<std::string> names;
  for (const Dependency& d : s.depends_on) {
    if (spec.Find(d.service)) names.push_back(d.service);
  }
  return names;
}

NameSet InitialSet(const FleetSpec& spec, const std::vector<std::string>& wanted) {
  NameSet set;
  if (wanted.empty()) {
    for (const ServiceSpec& s : spec.services) {
      if (s.autostart) set.insert(s.name);
    }
  }
  for (const std::string& name : wanted) {
    if (spec.Find(name)) set.insert(name);
  }
  return set;
}

NameSet WithDependencies(const FleetSpec& spec, NameSet set) {
  std::vector<std::string> pending(set.begin(), set.end());
  while (!pending.empty()) {
    const ServiceSpec* s = spec.Find(pending.back());
    pending.pop_back();
    if (!s) continue;
    for (const std::string& dep : PresentDependencies(spec, *s)) {
      if (set.insert(dep).second) pending.push_back(dep);
    }
  }
  return set;
}

// Kahn's algorithm over `members` (edges to services outside it are
// ignored), always taking the smallest ready name so the order is stable
// from run to run.
std::vector<std::string> DependenciesFirst(const FleetSpec& spec, const NameSet& members) {
  std::map<std::string, int> unmet;
  std::map<std::string, std::vector<std::string>> dependents;
  for (const std::string& name : members) {
    unmet.try_emplace(name, 0);
    for (const std::string& dep : PresentDependencies(spec, *spec.Find(name))) {
      if (!members.contains(dep)) continue;
      ++unmet[name];
      dependents[dep].push_back(name);
    }
  }
  NameSet ready;
  for (const auto& [name, count] : unmet) {
    if (count == 0) ready.insert(name);
  }
  std::vector<std::string> order;
  while (!ready.empty()) {
    std::string next = *ready.begin();
    ready.erase(ready.begin());
    for (const std::string& dependent : dependents[next]) {
      if (--unmet[dependent] == 0) ready.insert(dependent);
    }
    order.push_back(std::move(next));
  }
  // Only a cycle leaves services behind, and validation refuses cycles;
  // should one slip through, start them anyway rather than drop them.
  for (const auto& [name, count] : unmet) {
    if (count > 0) order.push_back(name);
  }
  return order;
}

Readiness Wait(std::string reason) { return {Readiness::Verdict::kWait, std::move(reason)}; }
Readiness Fail(std::string reason) { return {Readiness::Verdict::kFailed, std::move(reason)}; }

std::string ExitText(const std::string& dep, const UnitView& view) {
  if (!view.exit_code) return "dependency " + dep + " stopped without an exit code";
  return "dependency " + dep + " exited with " + std::to_string(*view.exit_code);
}

// compose waits for the container to be created and started; having exited
// since does not hold its dependents back.
Readiness CheckStarted(const std::string& dep, const UnitView& view) {
  if (view.phase == UnitPhase::kRunning || view.phase == UnitPhase::kExited) return {};
  return Wait("waiting for " + dep + " to start");
}

// Health is only read once the dependency runs: before that the controller
// may not know yet whether its image brings a health check.
Readiness CheckHealthy(const std::string& dep, const UnitView& view) {
  if (view.phase == UnitPhase::kExited) return Fail(ExitText(dep, view));
  if (view.phase != UnitPhase::kRunning) return Wait("waiting for " + dep + " to be healthy");
  switch (view.health) {
    case UnitHealth::kHealthy: return {};
    case UnitHealth::kStarting: return Wait("waiting for " + dep + " to be healthy");
    case UnitHealth::kUnhealthy: return Fail("dependency " + dep + " is unhealthy");
    case UnitHealth::kNone: return Fail("dependency " + dep + " has no healthcheck");
  }
  return {};
}

Readiness CheckCompleted(const std::string& dep, const UnitView& view) {
  if (view.phase != UnitPhase::kExited) return Wait("waiting for " + dep + " to complete");
  if (view.exit_code == 0) return {};
  return Fail(ExitText(dep, view));
}

Readiness CheckOne(const Dependency& dep, const UnitLookup& view_of) {
  std::optional<UnitView> view = view_of(dep.service);
  if (!view) return Fail("dependency " + dep.service + " is not in the fleet");
  switch (dep.condition) {
    case DependCondition::kStarted: return CheckStarted(dep.service, *view);
    case DependCondition::kHealthy: return CheckHealthy(dep.service, *view);
    case DependCondition::kCompletedSuccessfully: return CheckCompleted(dep.service, *view);
  }
  return {};
}

}  // namespace

std::vector<std::string> StartOrder(const FleetSpec& spec, const std::vector<std::string>& wanted) {
  return DependenciesFirst(spec, WithDependencies(spec, InitialSet(spec, wanted)));
}

std::vector<std::string> StopOrder(const FleetSpec& spec, const std::vector<std::string>& names) {
  NameSet all;
  for (const ServiceSpec& s : spec.services) all.insert(s.name);
  NameSet chosen(names.begin(), names.end());
  std::vector<std::string> order;
  for (std::string& name : DependenciesFirst(spec, all)) {
    if (chosen.contains(name)) order.push_back(std::move(name));
  }
  std::reverse(order.begin(), order.end());
  return order;
}

Readiness CheckDependencies(const ServiceSpec& service, const UnitLookup& view_of) {
  std::optional<Readiness> first_wait;
  for (const Dependency& dep : service.depends_on) {
    Readiness one = CheckOne(dep, view_of);
    if (one.verdict == Readiness::Verdict::kFailed && !dep.required) continue;
    if (one.verdict == Readiness::Verdict::kFailed) return one;
    if (one.verdict == Readiness::Verdict::kWait && !first_wait) first_wait = std::move(one);
  }
  return first_wait.value_or(Readiness{});
}

}  // namespace vk::fleet
