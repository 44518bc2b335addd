#include "base/mapped_resident.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <vector>

namespace vk {
namespace {

TEST(MappedResidentTest, CountsEntriesWithThePresentBit) {
  std::vector<uint64_t> entries = {0, 1ull << 63, (1ull << 63) | 1234, 1ull << 62, 1ull << 61};
  EXPECT_EQ(CountPresentPages(entries), 2u);  // bit 62 is "swapped", not resident
  EXPECT_EQ(CountPresentPages({}), 0u);
}

TEST(MappedResidentTest, CountsOnlyPagesThisProcessTouched) {
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t size = 64 * page;
  void* memory = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(memory, MAP_FAILED);
  ::madvise(memory, size, MADV_NOHUGEPAGE);  // one touched page must stay one page
  auto start = reinterpret_cast<uintptr_t>(memory);
  EXPECT_EQ(MappedResidentBytes(start, size), 0u);
  std::memset(memory, 1, 8 * page);
  EXPECT_EQ(MappedResidentBytes(start, size), 8 * page);
  EXPECT_EQ(MappedResidentBytes(start + 4 * page, 2 * page), 2 * page);
  ::madvise(memory, size, MADV_DONTNEED);
  EXPECT_EQ(MappedResidentBytes(start, size), 0u);
  ::munmap(memory, size);
}

}  // namespace
}  // namespace vk
