#include "base/terminal_resize.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>

#include <cerrno>
#include <optional>
#include <vector>

namespace vk {
namespace {

bool Readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

TEST(TerminalResizeTest, EveryWatchWakesAndDrainRearms) {
  auto first = TerminalResizeWatch::Create();
  auto second = TerminalResizeWatch::Create();
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_FALSE(Readable(first->fd()));
  errno = EINTR;
  NotifyTerminalResized();
  EXPECT_EQ(errno, EINTR) << "a signal handler must leave errno as it found it";
  EXPECT_TRUE(Readable(first->fd()));
  EXPECT_TRUE(Readable(second->fd()));
  first->Drain();
  EXPECT_FALSE(Readable(first->fd()));
}

TEST(TerminalResizeTest, SlotsAreBoundedAndFreedByTheDestructor) {
  std::vector<TerminalResizeWatch> watches;
  for (size_t i = 0; i < kMaxTerminalResizeWatches; ++i) {
    auto watch = TerminalResizeWatch::Create();
    ASSERT_TRUE(watch.ok()) << watch.error().message();
    watches.push_back(std::move(*watch));
  }
  EXPECT_FALSE(TerminalResizeWatch::Create().ok());
  watches.pop_back();
  auto again = TerminalResizeWatch::Create();
  ASSERT_TRUE(again.ok());
  // A moved-from watch owns no slot: notifying writes only live fds.
  TerminalResizeWatch moved = std::move(*again);
  NotifyTerminalResized();
  EXPECT_TRUE(Readable(moved.fd()));
}

// The real path: a SIGWINCH handler calls it, for watches made and freed
// between signals.
TEST(TerminalResizeTest, TheSigwinchHandlerPathWakesAWatch) {
  struct sigaction action {
  }, previous{};
  action.sa_handler = [](int) { NotifyTerminalResized(); };
  sigemptyset(&action.sa_mask);
  ASSERT_EQ(::sigaction(SIGWINCH, &action, &previous), 0);
  for (int i = 0; i < 2000; ++i) {
    auto watch = TerminalResizeWatch::Create();
    ASSERT_TRUE(watch.ok());
    ::raise(SIGWINCH);
    EXPECT_TRUE(Readable(watch->fd()));
  }
  ::sigaction(SIGWINCH, &previous, nullptr);
}

}  // namespace
}  // namespace vk
