#include "vmm/mptable.h"

#include <gtest/gtest.h>

#include <cstring>

#include "vmm/layout.h"

namespace vk {
namespace {

uint8_t Sum(const uint8_t* data, size_t size) {
  uint8_t sum = 0;
  for (size_t i = 0; i < size; ++i) sum += data[i];
  return sum;
}

template <typename T>
T At(const std::vector<uint8_t>& bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

class MpTableTest : public ::testing::TestWithParam<uint32_t> {};

// MP spec 1.4 §4.1 (floating pointer) and §4.2 (configuration table header).
TEST_P(MpTableTest, HeadersAndChecksumsFollowTheSpec) {
  uint32_t cpus = GetParam();
  auto table = BuildMpTable(cpus, layout::kEbdaStart);
  ASSERT_TRUE(table.ok());
  const std::vector<uint8_t>& b = *table;
  EXPECT_EQ(std::memcmp(b.data(), "_MP_", 4), 0);
  EXPECT_EQ(At<uint32_t>(b, 4), layout::kEbdaStart + 16);  // physical address of the config table
  EXPECT_EQ(b[8], 1);                                      // length in paragraphs
  EXPECT_EQ(b[9], 4);                                      // spec revision 1.4
  EXPECT_EQ(Sum(b.data(), 16), 0);
  EXPECT_EQ(b[11], 0);  // feature byte 1: config table present, no default configuration
  const size_t header = 16;
  EXPECT_EQ(std::memcmp(&b[header], "PCMP", 4), 0);
  uint16_t length = At<uint16_t>(b, header + 4);
  EXPECT_EQ(length, b.size() - 16);
  EXPECT_EQ(Sum(&b[header], length), 0);
  EXPECT_EQ(At<uint16_t>(b, header + 34), cpus + 2 + kIoapicPins + 2);  // entry count
  EXPECT_EQ(At<uint32_t>(b, header + 36), layout::kLapic);
  // base table length = 44 + 20 per processor + 8 per other entry
  EXPECT_EQ(length, 44 + 20 * cpus + 8 * (2 + kIoapicPins + 2));
}

TEST_P(MpTableTest, ProcessorEntriesHaveSequentialApicIdsAndOneBsp) {
  uint32_t cpus = GetParam();
  auto table = BuildMpTable(cpus, layout::kEbdaStart);
  ASSERT_TRUE(table.ok());
  const std::vector<uint8_t>& b = *table;
  size_t entry = 16 + 44;
  for (uint32_t cpu = 0; cpu < cpus; ++cpu, entry += 20) {
    EXPECT_EQ(b[entry], 0);  // processor entry
    EXPECT_EQ(b[entry + 1], cpu);
    EXPECT_EQ(b[entry + 3] & 1, 1);                        // enabled
    EXPECT_EQ((b[entry + 3] >> 1) & 1, cpu == 0 ? 1 : 0);  // BSP flag only on CPU 0
  }
  EXPECT_EQ(b[entry], 1);  // bus
  EXPECT_EQ(std::memcmp(&b[entry + 2], "ISA   ", 6), 0);
  entry += 8;
  EXPECT_EQ(b[entry], 2);  // I/O APIC
  EXPECT_EQ(b[entry + 1], cpus + 1);
  EXPECT_EQ(b[entry + 3], 1);
  EXPECT_EQ(At<uint32_t>(b, entry + 4), layout::kIoapic);
  entry += 8;
  for (uint32_t pin = 0; pin < kIoapicPins; ++pin, entry += 8) {
    EXPECT_EQ(b[entry], 3);  // I/O interrupt assignment
    EXPECT_EQ(b[entry + 5], pin);
    EXPECT_EQ(b[entry + 6], cpus + 1);
    EXPECT_EQ(b[entry + 7], pin);
  }
  EXPECT_EQ(b[entry], 4);  // local interrupt: LINT0 ExtINT
  EXPECT_EQ(b[entry + 1], 3);
  EXPECT_EQ(b[entry + 8], 4);  // LINT1 NMI
  EXPECT_EQ(b[entry + 9], 1);
  EXPECT_EQ(b[entry + 15], 1);
}

INSTANTIATE_TEST_SUITE_P(Cpus, MpTableTest, ::testing::Values(1u, 2u, 8u, 64u));

TEST(MpTableLimitsTest, RejectsZeroAndTooManyCpus) {
  EXPECT_FALSE(BuildMpTable(0, layout::kEbdaStart).ok());
  EXPECT_FALSE(BuildMpTable(65, layout::kEbdaStart).ok());
}

TEST(MpTableLimitsTest, LargestTableStaysInReservedLowMemory) {
  auto table = BuildMpTable(kMaxVcpus, layout::kEbdaStart);
  ASSERT_TRUE(table.ok());
  EXPECT_LE(layout::kEbdaStart + table->size(), layout::kBiosEnd);
}

}  // namespace
}  // namespace vk
