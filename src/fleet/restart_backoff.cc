#include "fleet/restart_backoff.h"

#include <algorithm>
#include <cstdio>

namespace vk::fleet {
namespace {

using std::chrono::milliseconds;

// docker's restartmanager constants.
constexpr Clock::duration kFirstDelay = milliseconds(100);
constexpr Clock::duration kMaxDelay = std::chrono::minutes(1);
// A run at least this long counts as a successful start: the next failure
// is not part of a crash loop, so its delay starts over.
constexpr Clock::duration kStableRun = std::chrono::seconds(10);

std::string PolicyName(const RestartPolicy& policy) {
  switch (policy.mode) {
    case RestartMode::kNo: return "no";
    case RestartMode::kAlways: return "always";
    case RestartMode::kUnlessStopped: return "unless-stopped";
    case RestartMode::kOnFailure:
      if (policy.max_retries == 0) return "on-failure";
      return "on-failure:" + std::to_string(policy.max_retries);
  }
  return "?";
}

// "100ms", "1.6s", "1m": short, for status lines.
std::string ShortDuration(Clock::duration d) {
  long long ms = std::chrono::duration_cast<milliseconds>(d).count();
  if (ms < 1000) return std::to_string(ms) + "ms";
  if (ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
  char text[32];
  std::snprintf(text, sizeof text, "%.1fs", static_cast<double>(ms) / 1000);
  std::string s = text;
  if (s.ends_with(".0s")) s.erase(s.size() - 3, 2);
  return s;
}

}  // namespace

RestartTracker::RestartTracker(RestartPolicy policy) : policy_(policy) {}

bool RestartTracker::WantsRestart(std::optional<int> exit_code) const {
  switch (policy_.mode) {
    case RestartMode::kNo: return false;
    case RestartMode::kAlways:
    case RestartMode::kUnlessStopped: return true;
    case RestartMode::kOnFailure: return exit_code != 0;  // nullopt: died, a failure
  }
  return false;
}

Clock::duration RestartTracker::NextDelay() {
  delay_ = delay_ == Clock::duration::zero() ? kFirstDelay : std::min(delay_ * 2, kMaxDelay);
  return delay_;
}

std::optional<Clock::duration> RestartTracker::OnExit(std::optional<int> exit_code, ExitCause cause,
                                                      Clock::time_point started,
                                                      Clock::time_point now) {
  if (cause == ExitCause::kStoppedByUser) stopped_by_user_ = true;
  if (stopped_by_user_) {
    last_ = LastDecision::kUserStop;
    return std::nullopt;
  }
  if (now - started >= kStableRun) delay_ = Clock::duration::zero();
  if (!WantsRestart(exit_code)) {
    last_ = LastDecision::kNoRestart;
    return std::nullopt;
  }
  bool limited = policy_.mode == RestartMode::kOnFailure && policy_.max_retries > 0;
  if (limited && restarts_ >= policy_.max_retries) {
    last_ = LastDecision::kExhausted;
    return std::nullopt;
  }
  ++restarts_;
  last_ = LastDecision::kRestart;
  return NextDelay();
}

void RestartTracker::OnUserStart() {
  stopped_by_user_ = false;
  delay_ = Clock::duration::zero();
  last_ = LastDecision::kNone;
}

std::string RestartTracker::Describe() const {
  std::string text = PolicyName(policy_) + ", " + std::to_string(restarts_) +
                     (restarts_ == 1 ? " restart" : " restarts");
  switch (last_) {
    case LastDecision::kRestart: return text + ", next in " + ShortDuration(delay_);
    case LastDecision::kUserStop: return text + ", stopped by user";
    case LastDecision::kExhausted: return text + ", retries exhausted";
    case LastDecision::kNone:
    case LastDecision::kNoRestart: return text;
  }
  return text;
}

}  // namespace vk::fleet
