#include "fleet/restart_backoff.h"

#include <gtest/gtest.h>

namespace vk::fleet {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Delay = std::optional<Clock::duration>;

constexpr Clock::time_point At(Clock::duration since_zero) {
  return Clock::time_point{} + since_zero;
}

RestartPolicy Policy(RestartMode mode, int max_retries = 0) { return {mode, max_retries}; }

// Drives one tracker along a fake clock: every run lasts `run` before it ends.
class Runs {
 public:
  explicit Runs(RestartPolicy policy) : tracker_(policy) {}

  Delay End(std::optional<int> code, Clock::duration run = seconds(1),
            ExitCause cause = ExitCause::kExited) {
    Clock::time_point started = now_;
    now_ += run;
    Delay delay = tracker_.OnExit(code, cause, started, now_);
    if (delay) now_ += *delay;
    return delay;
  }

  RestartTracker& tracker() { return tracker_; }

 private:
  RestartTracker tracker_;
  Clock::time_point now_ = At(seconds(100));
};

TEST(FleetRestartTest, NoNeverRestarts) {
  Runs runs(Policy(RestartMode::kNo));
  EXPECT_EQ(runs.End(1), std::nullopt);
  EXPECT_EQ(runs.End(0), std::nullopt);
  EXPECT_EQ(runs.End(std::nullopt), std::nullopt);
  EXPECT_EQ(runs.tracker().restarts(), 0);
  EXPECT_EQ(runs.tracker().Describe(), "no, 0 restarts");
}

TEST(FleetRestartTest, AlwaysRestartsAfterAnyExit) {
  Runs runs(Policy(RestartMode::kAlways));
  EXPECT_EQ(runs.End(0), Delay(milliseconds(100)));
  EXPECT_EQ(runs.End(1), Delay(milliseconds(200)));
  EXPECT_EQ(runs.End(std::nullopt), Delay(milliseconds(400)));
  EXPECT_EQ(runs.tracker().restarts(), 3);
  EXPECT_EQ(runs.tracker().Describe(), "always, 3 restarts, next in 400ms");
}

TEST(FleetRestartTest, UnlessStoppedActsAsAlways) {
  Runs runs(Policy(RestartMode::kUnlessStopped));
  EXPECT_EQ(runs.End(0), Delay(milliseconds(100)));
  EXPECT_EQ(runs.End(0, seconds(1), ExitCause::kStoppedByUser), std::nullopt);
  EXPECT_EQ(runs.tracker().Describe(), "unless-stopped, 1 restart, stopped by user");
}

TEST(FleetRestartTest, OnFailureOnlyAfterAFailure) {
  Runs runs(Policy(RestartMode::kOnFailure));
  EXPECT_EQ(runs.End(0), std::nullopt);
  EXPECT_EQ(runs.End(137), Delay(milliseconds(100)));
  EXPECT_EQ(runs.End(std::nullopt), Delay(milliseconds(200)));  // the VM died: a failure
  EXPECT_EQ(runs.tracker().Describe(), "on-failure, 2 restarts, next in 200ms");
}

TEST(FleetRestartTest, OnFailureLimitCountsTotalRestarts) {
  Runs runs(Policy(RestartMode::kOnFailure, 3));
  EXPECT_EQ(runs.End(1), Delay(milliseconds(100)));
  EXPECT_EQ(runs.End(1, seconds(30)), Delay(milliseconds(100)));  // delay reset, count not
  EXPECT_EQ(runs.End(1), Delay(milliseconds(200)));
  EXPECT_EQ(runs.tracker().Describe(), "on-failure:3, 3 restarts, next in 200ms");
  EXPECT_EQ(runs.End(1), std::nullopt);
  EXPECT_EQ(runs.tracker().restarts(), 3);
  EXPECT_EQ(runs.tracker().Describe(), "on-failure:3, 3 restarts, retries exhausted");
  runs.tracker().OnUserStart();  // an explicit start does not reset the count
  EXPECT_EQ(runs.End(1), std::nullopt);
}

TEST(FleetRestartTest, UserStopHoldsUntilTheNextExplicitStart) {
  for (RestartMode mode :
       {RestartMode::kAlways, RestartMode::kUnlessStopped, RestartMode::kOnFailure}) {
    Runs runs(Policy(mode));
    EXPECT_EQ(runs.End(1), Delay(milliseconds(100)));
    EXPECT_EQ(runs.End(143, seconds(1), ExitCause::kStoppedByUser), std::nullopt);
    EXPECT_EQ(runs.End(1), std::nullopt);  // still stopped: nothing restarts it
    runs.tracker().OnUserStart();
    EXPECT_EQ(runs.End(1), Delay(milliseconds(100)));  // the delay starts over too
    EXPECT_EQ(runs.tracker().restarts(), 2);
  }
}

TEST(FleetRestartTest, DelayDoublesUpToAMinute) {
  Runs runs(Policy(RestartMode::kAlways));
  std::vector<Clock::duration> want = {
      milliseconds(100),   milliseconds(200),   milliseconds(400),  milliseconds(800),
      milliseconds(1600),  milliseconds(3200),  milliseconds(6400), milliseconds(12800),
      milliseconds(25600), milliseconds(51200), seconds(60),        seconds(60)};
  for (Clock::duration d : want) EXPECT_EQ(runs.End(1, milliseconds(500)), Delay(d));
  EXPECT_EQ(runs.tracker().Describe(), "always, 12 restarts, next in 1m");
}

TEST(FleetRestartTest, DescribeShortensSeconds) {
  Runs runs(Policy(RestartMode::kAlways));
  for (int i = 0; i < 5; ++i) runs.End(1);
  EXPECT_EQ(runs.tracker().Describe(), "always, 5 restarts, next in 1.6s");
}

TEST(FleetRestartTest, ARunOfTenSecondsResetsTheDelay) {
  Runs runs(Policy(RestartMode::kAlways));
  EXPECT_EQ(runs.End(1), Delay(milliseconds(100)));
  EXPECT_EQ(runs.End(1), Delay(milliseconds(200)));
  EXPECT_EQ(runs.End(1, milliseconds(9999)), Delay(milliseconds(400)));  // just short
  EXPECT_EQ(runs.End(1, seconds(10)), Delay(milliseconds(100)));
  EXPECT_EQ(runs.End(1), Delay(milliseconds(200)));
}

TEST(FleetRestartTest, UserStartResetsTheDelay) {
  Runs runs(Policy(RestartMode::kAlways));
  runs.End(1);
  runs.End(1);
  runs.tracker().OnUserStart();
  EXPECT_EQ(runs.tracker().Describe(), "always, 2 restarts");
  EXPECT_EQ(runs.End(1), Delay(milliseconds(100)));
}

}  // namespace
}  // namespace vk::fleet
