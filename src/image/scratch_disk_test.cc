// Scratch disks (a VM's writable layer): empty, sound, enough inodes, and
// cheap whatever their size.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>

#include "image/build.h"
#include "image/test_support.h"

namespace vk::image {
namespace {

using ::testing::HasSubstr;

TEST(ScratchDisk, LargeDiskIsSparseSoundAndQuick) {
  testing::TempDir dir;
  auto start = std::chrono::steady_clock::now();
  auto made = CreateScratchDisk(dir / "scratch.ext4", 64ull << 30);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(made.ok()) << made.error().message();
  EXPECT_LT(elapsed, std::chrono::seconds(2));
  struct stat st;
  ASSERT_EQ(::stat((dir / "scratch.ext4").c_str(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), 64ull << 30);
  EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, 64ull << 20);  // metadata only
  EXPECT_EQ(testing::Fsck(dir / "scratch.ext4"), 0);
  std::string stats = testing::Run("dumpe2fs -h " + (dir / "scratch.ext4"));
  EXPECT_THAT(stats, HasSubstr("Inode count:              4194304"));
  EXPECT_THAT(testing::Debugfs(dir / "scratch.ext4", "ls /"), HasSubstr("lost+found"));
}

}  // namespace
}  // namespace vk::image
