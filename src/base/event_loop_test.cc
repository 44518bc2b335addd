#include "base/event_loop.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>

#include <thread>

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

}  // namespace
}  // namespace vk
