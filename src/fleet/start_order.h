// The order in which a fleet's services start and stop, and whether one may
// start yet: compose's depends_on semantics, as pure functions of the spec
// and of what the controller currently knows.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "fleet/fleet_spec.h"
#include "fleet/unit_view.h"

namespace vk::fleet {

// The services `up` starts: `wanted` (empty: every service with autostart)
// plus, transitively, what they depend on (required dependencies always, a
// non-required one only when it is in the spec), each dependency before its
// dependents, ties broken by name. The spec is validated acyclic; names not
// in the spec are left out (the caller reports them).
std::vector<std::string> StartOrder(const FleetSpec& spec, const std::vector<std::string>& wanted);

// `down`/`stop`: `names` with every dependent before what it depends on,
// also through services not in `names` (a -> b -> c stops a before c).
std::vector<std::string> StopOrder(const FleetSpec& spec, const std::vector<std::string>& names);

struct Readiness {
  enum class Verdict { kReady, kWait, kFailed };
  Verdict verdict = Verdict::kReady;
  // kWait: "waiting for db to be healthy"; kFailed: "dependency db exited
  // with 1", "dependency db is unhealthy", "dependency db has no healthcheck".
  std::string reason;
};

// nullopt: no such service in the fleet (missing or disabled by profiles).
using UnitLookup = std::function<std::optional<UnitView>(const std::string&)>;

// Whether `service` may start given its dependencies' views, as compose:
// service_started: the dependency's VM is running (or ran and exited);
// service_healthy: it runs and its health is kHealthy (no health check or
// kUnhealthy fails); service_completed_successfully: it exited with 0 (any
// other exit fails). A failure beats a wait. A non-required dependency that
// is missing or failed is skipped, as compose does with a warning.
Readiness CheckDependencies(const ServiceSpec& service, const UnitLookup& view_of);

}  // namespace vk::fleet
