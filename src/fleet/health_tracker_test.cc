#include "fleet/health_tracker.h"

#include <gtest/gtest.h>

namespace vk::fleet {
namespace {

using std::chrono::seconds;

const Clock::time_point kStart = Clock::time_point{} + seconds(1000);

Clock::time_point After(int s) { return kStart + seconds(s); }

Healthcheck Check(int interval_s, int start_period_s, int start_interval_s, int retries) {
  Healthcheck check;
  check.test = {"pg_isready"};
  check.interval = seconds(interval_s);
  check.start_period = seconds(start_period_s);
  check.start_interval = seconds(start_interval_s);
  check.retries = retries;
  return check;
}

// Runs the probe when it is due and finishes it instantly.
UnitHealth ProbeOnTime(HealthTracker& tracker, bool passed) {
  return tracker.OnProbe(passed, passed ? "ok" : "refused", tracker.NextProbe());
}

TEST(FleetHealthTest, WithoutStartPeriodTheFirstProbeWaitsAnInterval) {
  HealthTracker tracker(Check(30, 0, 5, 3), kStart);
  EXPECT_EQ(tracker.health(), UnitHealth::kStarting);
  EXPECT_EQ(tracker.NextProbe(), After(30));
  EXPECT_EQ(ProbeOnTime(tracker, false), UnitHealth::kStarting);  // a failure that counts
  EXPECT_EQ(tracker.failing_streak(), 1);
  EXPECT_EQ(tracker.NextProbe(), After(60));
  EXPECT_EQ(ProbeOnTime(tracker, false), UnitHealth::kStarting);
  EXPECT_EQ(ProbeOnTime(tracker, false), UnitHealth::kUnhealthy);
  EXPECT_EQ(tracker.failing_streak(), 3);
  EXPECT_EQ(tracker.last_output(), "refused");
}

TEST(FleetHealthTest, FailuresDuringStartPeriodDoNotCount) {
  HealthTracker tracker(Check(30, 20, 5, 1), kStart);
  for (int at : {5, 10, 15}) {
    EXPECT_EQ(tracker.NextProbe(), After(at));  // start_interval while starting
    EXPECT_EQ(ProbeOnTime(tracker, false), UnitHealth::kStarting);
    EXPECT_EQ(tracker.failing_streak(), 0);
  }
  EXPECT_EQ(tracker.NextProbe(), After(20));
  // The start period is over: interval from now on, and failures count.
  EXPECT_EQ(ProbeOnTime(tracker, false), UnitHealth::kUnhealthy);
  EXPECT_EQ(tracker.NextProbe(), After(50));
}

TEST(FleetHealthTest, StartPeriodIsJudgedByWhenTheProbeBegan) {
  HealthTracker tracker(Check(30, 8, 5, 1), kStart);
  ASSERT_EQ(tracker.NextProbe(), After(5));
  // Began at 5 s inside the period, timed out at 10 s: still grace.
  EXPECT_EQ(tracker.OnProbe(false, "timed out", After(10)), UnitHealth::kStarting);
  EXPECT_EQ(tracker.NextProbe(), After(40));  // set at 10 s, after the period
  EXPECT_EQ(ProbeOnTime(tracker, false), UnitHealth::kUnhealthy);
}

TEST(FleetHealthTest, APassDuringStartPeriodIsHealthyAndEndsTheGrace) {
  HealthTracker tracker(Check(30, 120, 5, 2), kStart);
  EXPECT_EQ(ProbeOnTime(tracker, true), UnitHealth::kHealthy);
  EXPECT_EQ(tracker.NextProbe(), After(35));  // no longer starting: interval
  // Inside the start period still, but it was healthy: failures count now.
  EXPECT_EQ(ProbeOnTime(tracker, false), UnitHealth::kHealthy);
  EXPECT_EQ(tracker.failing_streak(), 1);
  EXPECT_EQ(ProbeOnTime(tracker, false), UnitHealth::kUnhealthy);
}

TEST(FleetHealthTest, APassResetsTheStreak) {
  HealthTracker tracker(Check(10, 0, 5, 3), kStart);
  ProbeOnTime(tracker, false);
  ProbeOnTime(tracker, false);
  EXPECT_EQ(tracker.failing_streak(), 2);
  EXPECT_EQ(ProbeOnTime(tracker, true), UnitHealth::kHealthy);
  EXPECT_EQ(tracker.failing_streak(), 0);
  EXPECT_EQ(tracker.last_output(), "ok");
  ProbeOnTime(tracker, false);
  EXPECT_EQ(ProbeOnTime(tracker, false), UnitHealth::kHealthy);
  EXPECT_EQ(ProbeOnTime(tracker, false), UnitHealth::kUnhealthy);
  EXPECT_EQ(ProbeOnTime(tracker, true), UnitHealth::kHealthy);  // and it can recover
}

TEST(FleetHealthTest, ZeroMeansDockersDefaults) {
  HealthTracker tracker(Check(0, 10, 0, 0), kStart);
  EXPECT_EQ(tracker.NextProbe(), After(5));   // start_interval 5 s
  tracker.OnProbe(false, "", After(10));      // began at 5 s: grace
  EXPECT_EQ(tracker.NextProbe(), After(40));  // interval 30 s
  ProbeOnTime(tracker, false);
  EXPECT_EQ(ProbeOnTime(tracker, false), UnitHealth::kStarting);
  EXPECT_EQ(ProbeOnTime(tracker, false), UnitHealth::kUnhealthy);  // retries 3
}

TEST(FleetHealthTest, KeepsTheLastFourKibOfOutput) {
  HealthTracker tracker(Check(30, 0, 5, 3), kStart);
  std::string output = std::string(5000, 'a') + "connection refused";
  tracker.OnProbe(false, output, After(30));
  EXPECT_EQ(tracker.last_output().size(), 4096u);
  EXPECT_TRUE(tracker.last_output().starts_with("...aaa"));
  EXPECT_TRUE(tracker.last_output().ends_with("aaaconnection refused"));
}

TEST(FleetHealthTest, TrimmedOutputStartsOnACharacterBoundary) {
  HealthTracker tracker(Check(30, 0, 5, 3), kStart);
  std::string output;
  // 2500 times é, two bytes each: keeping 4093 bytes would start inside one.
  while (output.size() < 5000) output += "\xC3\xA9";
  tracker.OnProbe(false, output, After(30));
  EXPECT_EQ(tracker.last_output().substr(0, 5), "...\xC3\xA9");
  EXPECT_EQ(tracker.last_output().size(), 4095u);
}

}  // namespace
}  // namespace vk::fleet
