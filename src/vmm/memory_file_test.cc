// The snapshot memory file without a VM: what is written, and that a guest
// restored from a memory file is saved whole again, also the pages it never
// touched after the restore and the host's page cache has let go of.
#include "vmm/memory_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "base/remove_tree.h"
#include "base/unique_fd.h"

namespace vk {
namespace {

constexpr uint64_t kMiB = 1 << 20;
constexpr size_t kPage = 4096;

class MemoryFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/vk-memory-file-test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { (void)RemoveTreeWithin("/tmp", dir_); }

  UniqueFd Create(const std::string& name) {
    UniqueFd fd(::open((dir_ + "/" + name).c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    EXPECT_TRUE(fd.valid());
    return fd;
  }
  static std::vector<uint8_t> ReadAt(int fd, off_t offset, size_t bytes) {
    std::vector<uint8_t> out(bytes);
    EXPECT_EQ(::pread(fd, out.data(), bytes, offset), static_cast<ssize_t>(bytes));
    return out;
  }

  std::string dir_;
};

TEST_F(MemoryFileTest, ARestoredGuestsUntouchedPagesAreSavedAgain) {
  const std::vector<std::pair<uint64_t, uint64_t>> layout{{0, 4 * kMiB}};
  // A first snapshot's memory: data in two pages, holes elsewhere.
  UniqueFd first = Create("first");
  ASSERT_EQ(::ftruncate(first.get(), 4 * kMiB), 0);
  std::vector<uint8_t> page_a(kPage, 0xa5), page_b(kPage, 0x5b);
  ASSERT_EQ(::pwrite(first.get(), page_a.data(), kPage, 0), static_cast<ssize_t>(kPage));
  ASSERT_EQ(::pwrite(first.get(), page_b.data(), kPage, 3 * kMiB), static_cast<ssize_t>(kPage));
  ASSERT_EQ(::fsync(first.get()), 0);
  // The host drops the file's pages from its cache (memory pressure):
  // mincore no longer reports them.
  ASSERT_EQ(::posix_fadvise(first.get(), 0, 0, POSIX_FADV_DONTNEED), 0);

  auto memory = GuestMemory::MapFile(layout, first.get());
  ASSERT_TRUE(memory.ok()) << memory.error().message();
  first.Reset();  // the guest memory keeps its own reference
  // The restored guest writes one page of its own.
  std::vector<uint8_t> page_c(kPage, 0xcc);
  ASSERT_TRUE(memory->WriteBytes(1 * kMiB, page_c).ok());

  UniqueFd second = Create("second");
  auto stats = WriteMemoryFile(*memory, second.get());
  ASSERT_TRUE(stats.ok()) << stats.error().message();
  EXPECT_EQ(stats->bytes_total, 4 * kMiB);
  EXPECT_EQ(stats->pages_written, 3u);
  EXPECT_EQ(ReadAt(second.get(), 0, kPage), page_a);
  EXPECT_EQ(ReadAt(second.get(), 1 * kMiB, kPage), page_c);
  EXPECT_EQ(ReadAt(second.get(), 3 * kMiB, kPage), page_b);
  EXPECT_EQ(ReadAt(second.get(), 2 * kMiB, kPage), std::vector<uint8_t>(kPage, 0));
}

TEST_F(MemoryFileTest, FreshMemoryKeepsOnlyWrittenNonZeroPages) {
  const std::vector<std::pair<uint64_t, uint64_t>> layout{{0, 2 * kMiB}, {4 * kMiB, 2 * kMiB}};
  auto memory = GuestMemory::Allocate(layout);
  ASSERT_TRUE(memory.ok());
  EXPECT_EQ(memory->backing_file(), -1);
  std::vector<uint8_t> data(kPage, 0x11), zeros(kPage, 0);
  ASSERT_TRUE(memory->WriteBytes(4 * kMiB + kPage, data).ok());
  ASSERT_TRUE(memory->WriteBytes(8 * kPage, zeros).ok());  // touched, but zeros
  UniqueFd file = Create("fresh");
  auto stats = WriteMemoryFile(*memory, file.get());
  ASSERT_TRUE(stats.ok()) << stats.error().message();
  EXPECT_EQ(stats->pages_written, 1u);
  // The second range follows the first in the file.
  EXPECT_EQ(ReadAt(file.get(), 2 * kMiB + kPage, kPage), data);
}

}  // namespace
}  // namespace vk
