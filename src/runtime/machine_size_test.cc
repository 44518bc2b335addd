#include "runtime/machine_size.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace vk {
namespace {

using ::testing::HasSubstr;

TEST(MachineSizeTest, CpusAreACountOrHost) {
  EXPECT_EQ(*ParseCpus("1"), 1u);
  EXPECT_EQ(*ParseCpus("64"), 64u);
  auto host = ParseCpus("host");
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(*host, HostCpus());
  EXPECT_GE(*host, 1u);
  EXPECT_LE(*host, kMaxVcpus);
}

TEST(MachineSizeTest, BadCpusAreUsageErrorsNamingTheFlag) {
  for (const char* bad : {"0", "65", "-1", "", "two", "2x", "host "}) {
    auto cpus = ParseCpus(bad);
    ASSERT_FALSE(cpus.ok()) << bad;
    EXPECT_EQ(cpus.error().kind(), ErrorKind::kUsage);
    EXPECT_THAT(cpus.error().message(), HasSubstr("--cpus must be 1-64 or host"));
  }
}

TEST(MachineSizeTest, ZeroCpusMeansTheHost) {
  EXPECT_EQ(*ResolveCpus(0), HostCpus());
  EXPECT_EQ(*ResolveCpus(3), 3u);
  EXPECT_EQ(ResolveCpus(65).error().kind(), ErrorKind::kUsage);
}

TEST(MachineSizeTest, MemoryTakesSuffixesWithinBounds) {
  EXPECT_EQ(*ParseMemory("512M"), 512ull << 20);
  EXPECT_EQ(*ParseMemory("4G"), 4ull << 30);
  EXPECT_EQ(*ParseMemory("1T"), 1ull << 40);
  EXPECT_EQ(*ParseMemory("67108864"), 64ull << 20);
  for (const char* bad : {"", "G", "1.5G", "32M", "2T", "99999999999999999999", "-1G"}) {
    auto memory = ParseMemory(bad);
    ASSERT_FALSE(memory.ok()) << bad;
    EXPECT_EQ(memory.error().kind(), ErrorKind::kUsage);
    EXPECT_THAT(memory.error().message(), HasSubstr("--mem"));
  }
}

}  // namespace
}  // namespace vk
