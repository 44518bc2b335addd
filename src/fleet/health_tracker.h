// docker's health check state machine for one run of a service: when to
// probe next and what the probes' results mean.
#pragma once

#include <string>

#include "fleet/fleet_clock.h"
#include "fleet/fleet_spec.h"
#include "fleet/unit_view.h"

namespace vk::fleet {

// Probes run every start_interval while the service is still starting within
// start_period, and every interval otherwise (the first one interval after
// the start when there is no start_period). A passing probe makes the
// service healthy, during start_period too, and resets the failing streak. A
// failing probe that began within start_period before the service was ever
// healthy does not count; any other one does, and `retries` in a row make it
// unhealthy. A probe that timed out is a failure: the caller runs each probe
// under healthcheck.timeout. Zero interval, start_interval or retries mean
// docker's defaults (30 s, 5 s, 3), as in the daemon.
class HealthTracker {
 public:
  HealthTracker(const Healthcheck& check, Clock::time_point started);

  Clock::time_point NextProbe() const { return next_probe_; }

  // A probe finished at `now`. docker judges the start period by when the
  // probe began, which is NextProbe() for a caller that keeps the schedule.
  // `output` is kept for status, its last 4 KiB.
  UnitHealth OnProbe(bool passed, std::string output, Clock::time_point now);

  UnitHealth health() const { return health_; }  // kStarting until the first verdict
  int failing_streak() const { return failing_streak_; }
  const std::string& last_output() const { return last_output_; }

 private:
  Clock::duration IntervalAfter(Clock::time_point now) const;

  Clock::duration interval_;
  Clock::duration start_interval_;
  Clock::duration start_period_;
  int retries_;
  Clock::time_point started_;
  Clock::time_point next_probe_;
  UnitHealth health_ = UnitHealth::kStarting;
  int failing_streak_ = 0;
  std::string last_output_;
};

}  // namespace vk::fleet
