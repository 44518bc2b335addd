#include "base/setup_memory.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace vk {
namespace {

struct Mapping {
  uintptr_t start = 0, end = 0;
  std::string permissions, path;
  long anonymous_kib = 0;
};

std::vector<Mapping> ReadSmaps() {
  std::vector<Mapping> mappings;
  std::ifstream smaps("/proc/self/smaps");
  for (std::string line; std::getline(smaps, line);) {
    std::istringstream fields(line);
    std::string first;
    fields >> first;
    if (first == "Anonymous:") {
      fields >> mappings.back().anonymous_kib;
    } else if (first.find('-') != std::string::npos && first.back() != ':') {
      Mapping mapping;
      size_t dash = first.find('-');
      mapping.start = std::stoull(first.substr(0, dash), nullptr, 16);
      mapping.end = std::stoull(first.substr(dash + 1), nullptr, 16);
      std::string offset, device, inode;
      fields >> mapping.permissions >> offset >> device >> inode >> mapping.path;
      mappings.push_back(mapping);
    }
  }
  return mappings;
}

long StatusKib(const std::string& field) {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

// Every range is read-only, file-backed and holds no private (anonymous)
// page: dropping it loses nothing. RELRO (relocated, read-only afterwards)
// and the vDSO would fail this.
TEST(SetupMemoryTest, RangesAreReadOnlyFilePagesOnly) {
  std::vector<AddressRange> ranges = ReadOnlyImageRanges();
  ASSERT_FALSE(ranges.empty());
  std::vector<Mapping> mappings = ReadSmaps();
  bool executable_seen = false;
  for (const AddressRange& range : ranges) {
    uintptr_t covered = range.start;
    for (const Mapping& mapping : mappings) {
      if (mapping.end <= range.start || mapping.start >= range.end) continue;
      SCOPED_TRACE(mapping.path + " " + mapping.permissions);
      EXPECT_EQ(mapping.permissions[1], '-');
      EXPECT_EQ(mapping.path.front(), '/');
      EXPECT_EQ(mapping.anonymous_kib, 0);
      executable_seen |= mapping.permissions[2] == 'x';
      if (mapping.start <= covered) covered = std::max(covered, mapping.end);
    }
    EXPECT_GE(covered, range.end) << "a range reaches past its object's mappings";
  }
  EXPECT_TRUE(executable_seen);
}

TEST(SetupMemoryTest, DropsFilePagesAndCodeStillRuns) {
  long before = StatusKib("RssFile");
  DropSetupMemory();
  long after = StatusKib("RssFile");
  EXPECT_GT(before, 0);
  EXPECT_LT(after, before);
  std::ostringstream text;  // code of this binary and libstdc++, faulted back in
  text << "still " << 42;
  EXPECT_EQ(text.str(), "still 42");
}

// A 1 MiB block freed on a thread of its own goes back to the kernel even
// after a larger block raised glibc's dynamic thresholds.
TEST(SetupMemoryTest, FixedThresholdsReturnAThreadsLargeBlock) {
#if defined(__SANITIZE_ADDRESS__)
  // ASan replaces glibc's malloc (mallopt does nothing) and holds freed
  // blocks in its quarantine: what this test measures does not exist there.
  GTEST_SKIP() << "glibc malloc behaviour; ASan's allocator replaces it";
#endif
  {
    std::vector<uint8_t> large(8 << 20, 1);  // mapped alone; its free raises the thresholds
  }
  FixMallocThresholds();
  long before = StatusKib("RssAnon");
  std::thread([] {
    std::vector<uint8_t> buffer(1 << 20);
    std::memset(buffer.data(), 1, buffer.size());
  }).join();
  long after = StatusKib("RssAnon");
  EXPECT_LT(after - before, 512) << "the freed 1 MiB stayed resident";
}

}  // namespace
}  // namespace vk
