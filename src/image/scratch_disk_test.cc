// Scratch disks (a VM's writable layer): empty, sound, enough inodes, and
// cheap whatever their size.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/unique_fd.h"
#include "image/build.h"
#include "image/scratch_template.h"
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
  EXPECT_EQ(testing::Fsck(dir / "scratch.ext4"), 0)
      << testing::Run("e2fsck -fn " + (dir / "scratch.ext4") + " 2>&1");
  std::string stats = testing::Run("dumpe2fs -h " + (dir / "scratch.ext4"));
  EXPECT_THAT(stats, HasSubstr("Inode count:              262144"));
  EXPECT_THAT(stats, HasSubstr("bigalloc"));  // 32 groups, not 512: a quick guest mount
  EXPECT_THAT(stats, HasSubstr("Cluster size:             65536"));
  EXPECT_THAT(testing::Debugfs(dir / "scratch.ext4", "ls /"), HasSubstr("lost+found"));
}

uint64_t AllocatedBytes(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_blocks) * 512 : 0;
}

TEST(ScratchDisk, CopiesOfTheTemplateAreSoundSparseAndIdentical) {
  testing::TempDir dir;
  const std::string templates = dir / "templates";
  constexpr uint64_t kSize = 1ull << 30;  // cmp reads the holes too
  auto first = CreateScratchDiskFromTemplate(templates, dir / "a.ext4", kSize);
  ASSERT_TRUE(first.ok()) << first.error().message();
  const std::string template_path = templates + "/" + ScratchTemplateName(kSize);
  ASSERT_EQ(::access(template_path.c_str(), F_OK), 0) << "the first run keeps a template";
  auto second = CreateScratchDiskFromTemplate(templates, dir / "b.ext4", kSize);
  ASSERT_TRUE(second.ok()) << second.error().message();
  for (const std::string name : {"a.ext4", "b.ext4"}) {
    EXPECT_EQ(testing::Fsck(dir / name), 0) << name;
    EXPECT_LT(AllocatedBytes(dir / name), 64ull << 20) << name << " stays sparse";
  }
  EXPECT_EQ(testing::Run("cmp " + template_path + " " + (dir / "b.ext4") + " && echo same"),
            "same\n");
  // A copy is a separate file: writing to it leaves the template alone.
  testing::Run("debugfs -w -R 'mkdir /upper' " + (dir / "b.ext4"));
  EXPECT_THAT(testing::Debugfs(dir / "b.ext4", "ls /"), HasSubstr("upper"));
  EXPECT_EQ(testing::Fsck(template_path), 0);
  EXPECT_THAT(testing::Debugfs(template_path, "ls /"), ::testing::Not(HasSubstr("upper")));
}

// The library's rootfs hooks: what the caller owns on the host is root's in
// the guest, and named owners apply where a non-root caller could not chown.
TEST(ScratchDisk, UpperLayerTakesTheNamedOwnersAndMapsTheCallerToRoot) {
  testing::TempDir dir;
  const std::string upper = dir / "upper";
  std::filesystem::create_directories(upper + "/home/app/.ssh");
  std::ofstream(upper + "/home/app/.ssh/authorized_keys") << "ssh-ed25519 AAAA k\n";
  std::ofstream(upper + "/etc-hooked") << "x\n";
  std::vector<LayerOwner> owners = {{"/home/app", 1000, 1000},
                                    {"home/app/.ssh/authorized_keys", 1000, 100}};
  const std::string disk = dir / "scratch.ext4";
  auto made = CreateScratchDiskWithUpper(upper, disk, 64ull << 20, owners);
  ASSERT_TRUE(made.ok()) << made.error().message();
  EXPECT_EQ(testing::Fsck(disk), 0);
  // "uid:gid" from debugfs' "User:  1000   Group:   100 ..." line.
  auto owner_of = [&](const std::string& path) {
    std::istringstream stat(testing::Debugfs(disk, "stat " + path));
    for (std::string word; stat >> word;) {
      if (word != "User:") continue;
      std::string uid, group_label, gid;
      stat >> uid >> group_label >> gid;
      return uid + ":" + gid;
    }
    return std::string("no owner in debugfs output");
  };
  EXPECT_EQ(owner_of("/upper/home/app"), "1000:1000");
  EXPECT_EQ(owner_of("/upper/home/app/.ssh/authorized_keys"), "1000:100");
  EXPECT_EQ(owner_of("/upper/etc-hooked"), "0:0");
  EXPECT_EQ(owner_of("/upper/home/app/.ssh"), "0:0");

  auto missing =
      CreateScratchDiskWithUpper(upper, dir / "other.ext4", 64ull << 20, {{"/no/such/file", 1, 1}});
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message(), HasSubstr("/no/such/file"));
}

TEST(ScratchDisk, NeverOverwritesAnExistingFile) {
  testing::TempDir dir;
  std::ofstream(dir / "taken") << "precious";
  auto made = CreateScratchDiskFromTemplate(dir / "templates", dir / "taken", 1ull << 30);
  ASSERT_FALSE(made.ok());
  EXPECT_THAT(made.error().message(), HasSubstr("taken"));
  EXPECT_EQ(testing::ReadFile(dir / "taken"), "precious");
}

TEST(ScratchDisk, SparseCopyKeepsHolesAndData) {
  testing::TempDir dir;
  {
    UniqueFd fd(::open((dir / "src").c_str(), O_WRONLY | O_CREAT, 0644));
    ASSERT_TRUE(fd);
    ASSERT_EQ(::ftruncate(fd.get(), 1ull << 30), 0);
    ASSERT_EQ(::pwrite(fd.get(), "head", 4, 0), 4);
    ASSERT_EQ(::pwrite(fd.get(), "middle", 6, 512ull << 20), 6);
    ASSERT_EQ(::pwrite(fd.get(), "tail", 4, (1ull << 30) - 4), 4);
  }
  auto copied = CopySparseFile(dir / "src", dir / "dst");
  ASSERT_TRUE(copied.ok()) << copied.error().message();
  EXPECT_EQ(testing::Run("cmp " + (dir / "src") + " " + (dir / "dst") + " && echo same"), "same\n");
  EXPECT_LT(AllocatedBytes(dir / "dst"), 1ull << 20);
  struct stat st {};
  ASSERT_EQ(::stat((dir / "dst").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u) << "a VM's writable disk is its owner's alone";
}

}  // namespace
}  // namespace vk::image
