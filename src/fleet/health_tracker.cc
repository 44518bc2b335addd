#include "fleet/health_tracker.h"

#include <algorithm>
#include <string_view>

namespace vk::fleet {
namespace {

// Bounds what a chatty or hostile probe can make vk keep in memory and print
// in status output (docker keeps 4 KiB too).
constexpr size_t kMaxOutput = 4096;
constexpr std::string_view kCutMarker = "...";

// docker's daemon treats an unset (zero) value as its default.
Clock::duration OrDefault(std::chrono::nanoseconds value, std::chrono::nanoseconds fallback) {
  return std::chrono::duration_cast<Clock::duration>(value == value.zero() ? fallback : value);
}

bool IsUtf8Continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// The end of the output is kept, where a failing command says why; the cut
// moves forward to a character boundary so status output stays valid UTF-8.
std::string LastBytes(std::string output) {
  if (output.size() <= kMaxOutput) return output;
  size_t cut = output.size() - (kMaxOutput - kCutMarker.size());
  while (cut < output.size() && IsUtf8Continuation(output[cut])) ++cut;
  return std::string(kCutMarker) + output.substr(cut);
}

}  // namespace

HealthTracker::HealthTracker(const Healthcheck& check, Clock::time_point started)
    : interval_(OrDefault(check.interval, kDefaultHealthInterval)),
      start_interval_(OrDefault(check.start_interval, kDefaultHealthStartInterval)),
      start_period_(std::chrono::duration_cast<Clock::duration>(check.start_period)),
      retries_(check.retries > 0 ? check.retries : kDefaultHealthRetries),
      started_(started) {
  next_probe_ = started + IntervalAfter(started);  // health_ is set by now
}

// docker reads the status when it sets the timer: start_interval only while
// nothing has been decided yet and the start period still runs.
Clock::duration HealthTracker::IntervalAfter(Clock::time_point now) const {
  bool in_start_period = now - started_ < start_period_;
  if (in_start_period && health_ == UnitHealth::kStarting) return start_interval_;
  return interval_;
}

UnitHealth HealthTracker::OnProbe(bool passed, std::string output, Clock::time_point now) {
  Clock::time_point began = std::min(next_probe_, now);
  last_output_ = LastBytes(std::move(output));
  if (passed) {
    failing_streak_ = 0;
    health_ = UnitHealth::kHealthy;
  } else {
    bool grace = health_ == UnitHealth::kStarting && began - started_ < start_period_;
    if (!grace && ++failing_streak_ >= retries_) health_ = UnitHealth::kUnhealthy;
  }
  next_probe_ = now + IntervalAfter(now);
  return health_;
}

}  // namespace vk::fleet
