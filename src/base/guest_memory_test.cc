#include "base/guest_memory.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <vector>

namespace vk {
namespace {

class GuestMemoryTest : public ::testing::Test {
 protected:
  GuestMemoryTest()
      : low_(4096),
        high_(4096),
        memory_(GuestMemory::Wrap(
            {{0, low_.data(), low_.size()}, {0x100000000ull, high_.data(), high_.size()}})) {}
  std::vector<uint8_t> low_;
  std::vector<uint8_t> high_;
  GuestMemory memory_;
};

TEST_F(GuestMemoryTest, ReadWriteInsideRanges) {
  ASSERT_TRUE(memory_.Write<uint32_t>(16, 0xdeadbeef).ok());
  EXPECT_EQ(*memory_.Read<uint32_t>(16), 0xdeadbeefu);
  ASSERT_TRUE(memory_.Write<uint64_t>(0x100000000ull + 4088, 7).ok());
  EXPECT_EQ(*memory_.Read<uint64_t>(0x100000000ull + 4088), 7u);
  EXPECT_EQ(memory_.size(), 8192u);
}

TEST_F(GuestMemoryTest, RejectsOutOfRangeAndStraddling) {
  EXPECT_FALSE(memory_.Read<uint32_t>(4094).ok());          // straddles the end
  EXPECT_FALSE(memory_.Read<uint8_t>(4096).ok());           // in the hole
  EXPECT_FALSE(memory_.Slice(0x100000000ull - 1, 2).ok());  // hole into high range
  EXPECT_TRUE(memory_.Slice(4096, 0).ok());                 // empty slice at the end
}

TEST_F(GuestMemoryTest, RejectsOverflowingLengths) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  EXPECT_FALSE(memory_.Slice(16, kMax).ok());
  EXPECT_FALSE(memory_.Slice(kMax, 16).ok());
  EXPECT_FALSE(memory_.Slice(0x100000000ull + 8, kMax - 4).ok());
  EXPECT_FALSE(memory_.Contains(kMax - 1, 2));
}

TEST_F(GuestMemoryTest, BytesRoundTrip) {
  std::array<uint8_t, 5> in{1, 2, 3, 4, 5};
  ASSERT_TRUE(memory_.WriteBytes(100, in).ok());
  std::array<uint8_t, 5> out{};
  ASSERT_TRUE(memory_.ReadBytes(100, out).ok());
  EXPECT_EQ(in, out);
}

TEST(GuestMemoryAllocateTest, AllocatesLazily) {
  std::pair<uint64_t, uint64_t> layout[] = {{0, 1ull << 30}};
  auto memory = GuestMemory::Allocate(layout);
  ASSERT_TRUE(memory.ok()) << memory.error().message();
  EXPECT_EQ(memory->size(), 1ull << 30);
  ASSERT_TRUE(memory->Write<uint8_t>((1ull << 30) - 1, 9).ok());
}

}  // namespace
}  // namespace vk
