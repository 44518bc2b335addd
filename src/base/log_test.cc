#include "base/log.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "base/testing/fd_testing.h"
#include "base/unique_fd.h"

namespace vk::log {
namespace {

using namespace std::chrono_literals;
using Clock = RateLimited::Clock;

TEST(RateLimitedTest, AllowsABurstPerKeyThenCountsAndSummarizes) {
  RateLimited limiter(3, 10s);
  Clock::time_point t0{};
  for (int i = 0; i < 3; ++i) {
    auto decision = limiter.Check("chain", t0 + 1s * i);
    EXPECT_TRUE(decision.print);
    EXPECT_EQ(decision.suppressed, 0u);
  }
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(limiter.Check("chain", t0 + 5s).print);
  // Another key has its own budget.
  EXPECT_TRUE(limiter.Check("packet", t0 + 5s).print);
  // A new window: the next line goes out, preceded by the count of dropped ones.
  auto next = limiter.Check("chain", t0 + 10s);
  EXPECT_TRUE(next.print);
  EXPECT_EQ(next.suppressed, 1000u);
  EXPECT_EQ(limiter.Check("chain", t0 + 11s).suppressed, 0u);
}

TEST(RateLimitedTest, ManyKeysShareOneBucketPastTheLimit) {
  RateLimited limiter(1, 10s);
  Clock::time_point t0{};
  for (size_t i = 0; i < RateLimited::kMaxKeys; ++i) {
    EXPECT_TRUE(limiter.Check("key" + std::to_string(i), t0).print);
  }
  // Keys beyond the table's bound share one bucket: one line, then silence.
  EXPECT_TRUE(limiter.Check("extra-a", t0).print);
  EXPECT_FALSE(limiter.Check("extra-b", t0).print);
  EXPECT_FALSE(limiter.Check("extra-c", t0).print);
}

// Captures log lines in a memfd for the duration of a test.
class CapturedLog {
 public:
  CapturedLog() : fd_(::memfd_create("log", MFD_CLOEXEC)) { SetSink(fd_.get()); }
  ~CapturedLog() { SetSink(STDERR_FILENO); }
  std::string Text() const { return testing::FdContents(fd_.get()); }

 private:
  UniqueFd fd_;
};

size_t Count(const std::string& text, const std::string& what) {
  size_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

TEST(WarnLimitedTest, AFloodOfGuestWarningsWritesTenLines) {
  CapturedLog captured;
  for (int i = 0; i < 5000; ++i) WarnLimited("log_test flood", "bad packet {}", i);
  std::string text = captured.Text();
  EXPECT_EQ(Count(text, "bad packet"), 10u) << text;
  EXPECT_NE(text.find("bad packet 9\n"), std::string::npos);
  EXPECT_EQ(text.find("bad packet 10\n"), std::string::npos);
}

}  // namespace
}  // namespace vk::log
