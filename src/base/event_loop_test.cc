#include "base/event_loop.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>

#include <atomic>
#include <thread>
#include <vector>

namespace vk {
namespace {

TEST(EventLoopTest, DispatchesReadyFdAndStopsFromAnotherThread) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  UniqueFd event(::eventfd(0, EFD_NONBLOCK));
  int fired = 0;
  ASSERT_TRUE((*loop)
                  ->Add(event.get(), EPOLLIN,
                        [&](uint32_t) {
                          uint64_t value;
                          ASSERT_EQ(::read(event.get(), &value, sizeof(value)), 8);
                          ++fired;
                          (*loop)->Stop();
                        })
                  .ok());
  std::thread writer([&] {
    uint64_t one = 1;
    ASSERT_EQ(::write(event.get(), &one, sizeof(one)), 8);
  });
  ASSERT_TRUE((*loop)->Run().ok());
  writer.join();
  EXPECT_EQ(fired, 1);
}

TEST(EventLoopTest, PostRunsOnLoopAndCallbacksMayRemoveThemselves) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  UniqueFd event(::eventfd(1, EFD_NONBLOCK));
  int calls = 0;
  ASSERT_TRUE((*loop)
                  ->Add(event.get(), EPOLLIN,
                        [&](uint32_t) {
                          ++calls;
                          (*loop)->Remove(event.get());
                        })
                  .ok());
  bool posted = false;
  (*loop)->Post([&] { posted = true; });
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*loop)->RunOnce(10).ok());
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(posted);
}

// virtio-vsock's Activate runs on a vCPU thread and registers its listeners
// with the device loop while that loop dispatches: registrations made from
// another thread must never be seen half made (a callback slot without its
// callback) nor race the loop's own lookups. Each fd here is readable the
// moment it is added, so the loop races every Add and Remove.
TEST(EventLoopTest, AnotherThreadMayAddAndRemoveWhileTheLoopDispatches) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  std::atomic<int> fired{0};
  std::thread runner([&] {
    while (!(*loop)->stopped()) ASSERT_TRUE((*loop)->RunOnce(1).ok());
  });
  constexpr int kRounds = 2000;
  constexpr int kFdsPerRound = 8;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<UniqueFd> events;
    for (int i = 0; i < kFdsPerRound; ++i) {
      events.emplace_back(::eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC));
      ASSERT_TRUE(events.back());
      int fd = events.back().get();
      ASSERT_TRUE((*loop)
                      ->Add(fd, EPOLLIN,
                            [&fired, fd](uint32_t) {
                              uint64_t value;
                              if (::read(fd, &value, sizeof(value)) == 8) ++fired;
                            })
                      .ok());
    }
    for (const UniqueFd& event : events) (*loop)->Remove(event.get());
  }
  (*loop)->Stop();
  runner.join();
  EXPECT_GT(fired.load(), 0) << "the loop never dispatched while the other thread registered";
}

TEST(EventLoopTest, AddingAnFdTwiceKeepsTheFirstCallback) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  UniqueFd event(::eventfd(1, EFD_NONBLOCK));
  int first = 0;
  ASSERT_TRUE((*loop)->Add(event.get(), EPOLLIN, [&](uint32_t) { ++first; }).ok());
  EXPECT_FALSE((*loop)->Add(event.get(), EPOLLIN, [](uint32_t) {}).ok());
  ASSERT_TRUE((*loop)->RunOnce(10).ok());
  EXPECT_EQ(first, 1);
}

}  // namespace
}  // namespace vk
