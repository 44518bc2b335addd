#include "base/lazy_library.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

// libvk_lazy_probe.so (base/testing/lazy_probe.c) through the trampolines of
// vk_lazy_probe (src/CMakeLists.txt): the test links no library defining them.
extern "C" {
long vk_probe_sum8(long a, long b, long c, long d, long e, long f, long g, long h);
double vk_probe_doubles(double a, double b, double c, double d, double e, double f, double g,
                        double h, long i);
double vk_probe_vsum(int count, ...);
int* vk_probe_counter_address(void);
long vk_probe_threads(long x);
}

VK_LAZY_LIBRARY(vk_lazy_probe);

namespace vk {
namespace {

TEST(LazyLibraryTest, FirstCallsPassEveryArgument) {
  // Each is the first call of its function, so it goes through the resolver.
  EXPECT_EQ(vk_probe_sum8(1, 2, 3, 4, 5, 6, 7, 8), 87654321);
  EXPECT_EQ(vk_probe_doubles(1, 2, 3, 4, 5, 6, 7, 8, 9),
            1 + 4 + 12 + 32 + 80 + 192 + 448 + 1024 + 2304);
  EXPECT_EQ(vk_probe_vsum(3, 1.5, 2.5, 4.0), 1.5 + 5.0 + 12.0);
  // Bound now: the slot points into the library.
  EXPECT_EQ(vk_probe_sum8(8, 7, 6, 5, 4, 3, 2, 1), 12345678);
  EXPECT_EQ(vk_probe_vsum(2, 1.0, 1.0), 3.0);
  // With VK_LAZY_LIBRARIES=OFF there are no trampolines: the calls above bind
  // as usual and nothing loads the library through vk_lazy_probe.
  if (vk_lazy_probe.count > 0) EXPECT_NE(vk_lazy_probe.handle.load(), nullptr);
}

TEST(LazyLibraryTest, DataSymbolIsTheLibrarysVariable) {
  auto counter = LazyLibraryData<int>(vk_lazy_probe, "vk_probe_counter");
  ASSERT_TRUE(counter.ok()) << counter.error().message();
  EXPECT_EQ(*counter, vk_probe_counter_address());
  EXPECT_EQ(**counter, 42);
}

TEST(LazyLibraryTest, MissingSymbolIsAnError) {
  auto missing = LazyLibrarySymbol(vk_lazy_probe, "vk_probe_absent");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("has no symbol vk_probe_absent"), std::string::npos);
}

TEST(LazyLibraryTest, MissingLibraryNamesItsPackage) {
  LazyLibrary missing{"libvk-absent.so.7", "vk-absent7", nullptr, nullptr, 0, 0, nullptr};
  auto loaded = LoadLazyLibrary(missing);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(
      loaded.error().message().rfind("libvk-absent.so.7 is missing: apt install vk-absent7", 0), 0u)
      << loaded.error().message();
}

TEST(LazyLibraryDeathTest, UnresolvableCallAborts) {
  const char* names[] = {"vk_lazy_absent_function"};
  void* slots[] = {nullptr};
  LazyLibrary missing{"libvk-absent.so.7", "vk-absent7", names, slots, 1, 0, nullptr};
  EXPECT_DEATH(VkLazyResolve(&missing, 0), "libvk-absent.so.7 is missing: apt install vk-absent7");
}

TEST(LazyLibraryTest, ConcurrentFirstCallsAgree) {
  std::vector<std::thread> threads;
  std::vector<long> results(8);
  for (size_t i = 0; i < results.size(); i++)
    threads.emplace_back([&results, i] { results[i] = vk_probe_threads(static_cast<long>(i)); });
  for (auto& thread : threads) thread.join();
  for (size_t i = 0; i < results.size(); i++) EXPECT_EQ(results[i], static_cast<long>(i) * 3);
}

}  // namespace
}  // namespace vk
