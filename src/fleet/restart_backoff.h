// docker's restart policy for one service: whether a service that ended is
// started again, and after how long.
#pragma once

#include <optional>
#include <string>

#include "fleet/fleet_clock.h"
#include "fleet/fleet_spec.h"

namespace vk::fleet {

enum class ExitCause { kExited, kStoppedByUser };

// no: never restarts. always: restarts unless the user stopped the service;
// a user stop holds until the next explicit start. unless-stopped: the same
// here; docker tells them apart only when the daemon itself restarts
// (always brings a user-stopped container back then, unless-stopped does
// not), and a fleet does not outlive its controller. on-failure[:N]: only
// after a non-zero exit, at most N restarts in total (0: unlimited).
//
// Delay: 100 ms before the first restart, doubled for each consecutive one,
// at most 1 min; a run that lasted at least 10 s starts over at 100 ms. That
// resets nothing else: on-failure's count is total restarts, as docker's
// RestartCount.
class RestartTracker {
 public:
  explicit RestartTracker(RestartPolicy policy);

  // The service ended. exit_code: its command's code; nullopt when the VM
  // died without one, a failure. Returns nullopt: do not restart; else wait
  // this long, then start it again.
  std::optional<Clock::duration> OnExit(std::optional<int> exit_code, ExitCause cause,
                                        Clock::time_point started, Clock::time_point now);

  // An explicit start or restart: re-enables restarts and resets the delay,
  // not the count.
  void OnUserStart();

  int restarts() const { return restarts_; }

  // For status output: "on-failure:3, 2 restarts, next in 400ms". The tail
  // tells the last OnExit decision, so it is meant for while a service is
  // down: "next in ..." (a restart is pending), "stopped by user" or
  // "retries exhausted".
  std::string Describe() const;

 private:
  enum class LastDecision { kNone, kRestart, kUserStop, kExhausted, kNoRestart };

  bool WantsRestart(std::optional<int> exit_code) const;
  Clock::duration NextDelay();

  RestartPolicy policy_;
  int restarts_ = 0;
  Clock::duration delay_{0};  // the last delay given; 0: none since the reset
  bool stopped_by_user_ = false;
  LastDecision last_ = LastDecision::kNone;
};

}  // namespace vk::fleet
