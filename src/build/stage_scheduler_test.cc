// RunStages: dependency order, independent stages at the same time up to
// --jobs, and the first failure stopping the rest.
#include "build/stage_scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace vk::build {
namespace {

using namespace std::chrono_literals;

// Stages 0 and 1 are independent; 2 needs both; 3 needs 2.
const std::vector<StageTask> kDiamond = {{0, {}}, {1, {}}, {2, {0, 1}}, {3, {2}}};

class Recorder {
 public:
  // Each build waits (bounded) until `together` builds run at once.
  explicit Recorder(size_t together = 1) : together_(together) {}

  Result<void> Build(size_t index) {
    std::unique_lock lock(mutex_);
    order_.push_back(index);
    ++running_;
    peak_ = std::max(peak_, running_);
    changed_.notify_all();
    changed_.wait_for(lock, wait_, [this] { return running_ >= together_ || finished_ > 0; });
    --running_;
    ++finished_;
    return fail_ == index ? Result<void>(Error(ErrorKind::kUsage, "stage failed"))
                          : Result<void>(Ok());
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<size_t> order_;
  size_t together_, running_ = 0, peak_ = 0, finished_ = 0;
  size_t fail_ = 99;
  std::chrono::milliseconds wait_ = 5s;
};

TEST(StageSchedulerTest, OneJobBuildsInOrderOnTheCallingThread) {
  std::vector<size_t> order;
  std::thread::id caller = std::this_thread::get_id();
  auto built = RunStages(
      kDiamond, 1,
      [&](size_t index) -> Result<void> {
        EXPECT_EQ(std::this_thread::get_id(), caller);
        order.push_back(index);
        return Ok();
      },
      [] { FAIL() << "nothing failed"; });
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(order, (std::vector<size_t>{0, 1, 2, 3}));
}

TEST(StageSchedulerTest, IndependentStagesBuildAtTheSameTime) {
  Recorder recorder(/*together=*/2);
  auto built = RunStages(
      kDiamond, 4, [&](size_t index) { return recorder.Build(index); }, [] {});
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(recorder.peak_, 2u);  // 0 and 1 together; 2 and 3 alone
  ASSERT_EQ(recorder.order_.size(), 4u);
  EXPECT_EQ(std::vector<size_t>(recorder.order_.begin() + 2, recorder.order_.end()),
            (std::vector<size_t>{2, 3}));
}

TEST(StageSchedulerTest, JobsBoundHowManyRunAtOnce) {
  const std::vector<StageTask> wide = {{0, {}}, {1, {}}, {2, {}}, {3, {}}};
  Recorder recorder(/*together=*/3);  // would reach 3 if allowed; times out at 2
  recorder.wait_ = 300ms;
  auto built = RunStages(
      wide, 2, [&](size_t index) { return recorder.Build(index); }, [] {});
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(recorder.peak_, 2u);
}

TEST(StageSchedulerTest, AFailureStopsWhatDependsOnItAndCancelsOnce) {
  Recorder recorder;
  recorder.fail_ = 1;
  int cancels = 0;
  auto built = RunStages(
      kDiamond, 2, [&](size_t index) { return recorder.Build(index); }, [&] { ++cancels; });
  ASSERT_FALSE(built.ok());
  EXPECT_EQ(built.error().kind(), ErrorKind::kUsage);
  EXPECT_EQ(built.error().message(), "stage failed");
  EXPECT_EQ(std::count(recorder.order_.begin(), recorder.order_.end(), 2u), 0);
  EXPECT_EQ(std::count(recorder.order_.begin(), recorder.order_.end(), 3u), 0);
  EXPECT_LE(cancels, 1);
}

TEST(StageSchedulerTest, AFailureInOrderStopsTheRest) {
  std::vector<size_t> order;
  auto built = RunStages(
      kDiamond, 1,
      [&](size_t index) -> Result<void> {
        order.push_back(index);
        if (index == 0) return Error("first failed");
        return Ok();
      },
      [] {});
  ASSERT_FALSE(built.ok());
  EXPECT_EQ(order, std::vector<size_t>{0});
}

}  // namespace
}  // namespace vk::build
