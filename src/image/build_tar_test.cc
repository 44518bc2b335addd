#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "image/build.h"
#include "image/test_support.h"

namespace vk::image {
namespace {

using testing::Debugfs;
using testing::Fsck;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::TarEntrySpec;
using testing::TempDir;

const std::string kLongName = std::string(120, 'n') + "/" + std::string(200, 'm');

std::vector<TarEntrySpec> SampleEntries() {
  std::vector<TarEntrySpec> e;
  e.push_back({.path = "etc/", .type = AE_IFDIR, .perm = 0755});
  e.push_back({.path = "etc/passwd",
               .perm = 0600,
               .uid = 100000,
               .gid = 70000,
               .mtime = 1600000000,
               .mtime_nsec = 123456789,
               .data = "root:x:0:0\n"});
  e.push_back({.path = "bin/ping",
               .perm = 04755,
               .data = std::string(10000, 'p'),
               .xattrs = {{"security.capability", std::string("\x01\x00\x00\x02\x00\x20\x00\x00"
                                                              "\x00\x00\x00\x00\x00\x00\x00\x00"
                                                              "\x00\x00\x00\x00",
                                                              20)},
                          {"user.note", "hi"}}});
  e.push_back({.path = "bin/sh", .type = AE_IFLNK, .perm = 0777, .link = "busybox"});
  e.push_back({.path = "bin/long", .type = AE_IFLNK, .perm = 0777, .link = std::string(300, 't')});
  e.push_back({.path = "bin/ping2", .hardlink = "bin/ping"});
  e.push_back({.path = "dev/null", .type = AE_IFCHR, .perm = 0666, .dev_major = 1, .dev_minor = 3});
  e.push_back(
      {.path = "dev/big", .type = AE_IFBLK, .perm = 0660, .dev_major = 259, .dev_minor = 70000});
  e.push_back({.path = "run/fifo", .type = AE_IFIFO, .perm = 0600});
  e.push_back({.path = "empty", .perm = 0644});
  e.push_back({.path = kLongName, .data = "long"});
  return e;
}

TEST(BuildTar, MetadataSurvives) {
  TempDir dir;
  testing::WriteTar(dir / "in.tar", SampleEntries());
  auto result = BuildExt4FromTars({dir / "in.tar"}, Whiteouts::kLiteral, dir / "out.ext4", {});
  ASSERT_TRUE(result.ok()) << result.error().message();
  std::string img = dir / "out.ext4";
  EXPECT_EQ(Fsck(img), 0);
  std::string passwd = Debugfs(img, "stat /etc/passwd");
  EXPECT_THAT(passwd, HasSubstr("User: 100000   Group: 70000"));
  EXPECT_THAT(passwd, HasSubstr("Mode:  0600"));
  EXPECT_THAT(passwd, HasSubstr("mtime: 0x5f5e1000:1d6f3454"));  // 123456789 << 2
  EXPECT_EQ(Debugfs(img, "cat /etc/passwd"), "root:x:0:0\n");
  std::string ping = Debugfs(img, "stat /bin/ping");
  EXPECT_THAT(ping, HasSubstr("Mode:  04755"));
  EXPECT_THAT(ping, HasSubstr("Links: 2"));
  EXPECT_THAT(ping, HasSubstr("Size: 10000"));
  EXPECT_THAT(Debugfs(img, "ea_list /bin/ping"), HasSubstr("user.note (2) = \"hi\""));
  EXPECT_THAT(Debugfs(img, "ea_list /bin/ping"), HasSubstr("security.capability (20)"));
  EXPECT_EQ(Debugfs(img, "stat /bin/ping2").substr(0, 14), ping.substr(0, 14));  // same inode
  EXPECT_THAT(Debugfs(img, "stat /bin/sh"), HasSubstr("Fast link dest: \"busybox\""));
  EXPECT_THAT(Debugfs(img, "stat /bin/long"), HasSubstr("Size: 300"));
  EXPECT_THAT(Debugfs(img, "stat /dev/null"), HasSubstr("Device major/minor number: 01:03"));
  EXPECT_THAT(Debugfs(img, "stat /dev/big"), HasSubstr("Type: block special"));
  EXPECT_THAT(Debugfs(img, "stat /dev/big"), HasSubstr("major/minor number: 259:70000"));
  EXPECT_THAT(Debugfs(img, "stat /run/fifo"), HasSubstr("Type: FIFO"));
  EXPECT_THAT(Debugfs(img, "stat /empty"), HasSubstr("Size: 0"));
  EXPECT_EQ(Debugfs(img, "cat /" + kLongName), "long");
}

// An image without layers (FROM scratch and config instructions alone).
TEST(BuildTar, NoLayersIsAnEmptyRoot) {
  TempDir dir;
  auto result = BuildExt4FromTars({}, Whiteouts::kOci, dir / "empty.ext4", {});
  ASSERT_TRUE(result.ok()) << result.error().message();
  std::string img = dir / "empty.ext4";
  EXPECT_EQ(Fsck(img), 0);
  EXPECT_THAT(Debugfs(img, "stat /"), HasSubstr("Type: directory"));
  EXPECT_THAT(Debugfs(img, "ls -l /"), Not(HasSubstr("etc")));
}

TEST(BuildTar, ReproducibleAndFingerprinted) {
  TempDir dir;
  testing::WriteTar(dir / "in.tar.gz", SampleEntries(), /*gzip=*/true);
  ASSERT_TRUE(BuildExt4FromTars({dir / "in.tar.gz"}, Whiteouts::kLiteral, dir / "a", {}).ok());
  ASSERT_TRUE(BuildExt4FromTars({dir / "in.tar.gz"}, Whiteouts::kLiteral, dir / "b", {}).ok());
  EXPECT_EQ(testing::ReadFile(dir / "a"), testing::ReadFile(dir / "b"));
  EXPECT_EQ(Fsck(dir / "a"), 0);
  auto fresh = FingerprintInputs(InputKind::kTar, {dir / "in.tar.gz"}, 0);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(*ReadImageUuid(dir / "a"), UuidFromFingerprint(*fresh));
  auto entries = SampleEntries();
  entries[1].data = "changed\n";
  testing::WriteTar(dir / "in.tar.gz", entries, true);
  auto stale = FingerprintInputs(InputKind::kTar, {dir / "in.tar.gz"}, 0);
  EXPECT_NE(*ReadImageUuid(dir / "a"), UuidFromFingerprint(*stale));
  BuildOptions fixed;
  fixed.uuid = *ParseUuid("01234567-89ab-cdef-0123-456789abcdef");
  fixed.size_bytes = 64 << 20;
  ASSERT_TRUE(BuildExt4FromTars({dir / "in.tar.gz"}, Whiteouts::kLiteral, dir / "c", fixed).ok());
  EXPECT_EQ(FormatUuid(*ReadImageUuid(dir / "c")), "01234567-89ab-cdef-0123-456789abcdef");
  EXPECT_EQ(std::filesystem::file_size(dir / "c"), 64u << 20);
}

// GNU tar's sparse format (PAX 1.0): holes stay holes in the image.
TEST(BuildTar, SparseFromGnuTar) {
  TempDir dir;
  std::filesystem::create_directories(dir / "src");
  FILE* f = fopen((dir / "src/sparse").c_str(), "w");
  fputs("head", f);
  fseek(f, 50 << 20, SEEK_SET);
  fputs("tail", f);
  fclose(f);
  int status = 0;
  testing::Run(
      "tar --sparse --format=posix -cf " + (dir / "in.tar") + " -C " + (dir / "src") + " sparse",
      &status);
  ASSERT_EQ(status, 0);
  std::string img = dir / "out.ext4";
  ASSERT_TRUE(BuildExt4FromTars({dir / "in.tar"}, Whiteouts::kLiteral, img, {}).ok());
  EXPECT_EQ(Fsck(img), 0);
  std::string sparse = Debugfs(img, "stat /sparse");
  EXPECT_THAT(sparse, HasSubstr("Size: 52428804"));
  EXPECT_THAT(sparse, HasSubstr("Blockcount: 16"));  // two 4 KiB blocks
  Debugfs(img, "dump /sparse " + (dir / "sparse.out"));
  std::string data = testing::ReadFile(dir / "sparse.out");
  ASSERT_EQ(data.size(), (50u << 20) + 4);
  EXPECT_EQ(data.substr(0, 4), "head");
  EXPECT_EQ(data.substr(50 << 20), "tail");
  EXPECT_EQ(data.find_first_not_of('\0', 4), 50u << 20);
}

TEST(BuildTar, LaterEntriesOverride) {
  TempDir dir;
  testing::WriteTar(dir / "in.tar", {{.path = "a", .data = "old"},
                                     {.path = "keep", .hardlink = "a"},
                                     {.path = "a", .data = "new"},
                                     {.path = "d", .data = "file"},
                                     {.path = "d/", .type = AE_IFDIR, .perm = 0700},
                                     {.path = "d/x", .data = "x"},
                                     {.path = "e/", .type = AE_IFDIR, .perm = 0755},
                                     {.path = "e/y", .data = "y"},
                                     {.path = "e", .type = AE_IFLNK, .link = "d"},
                                     {.path = "m/", .type = AE_IFDIR, .perm = 0755, .uid = 1},
                                     {.path = "m/z", .data = "z"},
                                     {.path = "m/", .type = AE_IFDIR, .perm = 0711, .uid = 2}});
  std::string img = dir / "out.ext4";
  ASSERT_TRUE(BuildExt4FromTars({dir / "in.tar"}, Whiteouts::kLiteral, img, {}).ok());
  EXPECT_EQ(Fsck(img), 0);
  EXPECT_EQ(Debugfs(img, "cat /a"), "new");
  EXPECT_EQ(Debugfs(img, "cat /keep"), "old");  // the link kept the replaced inode
  EXPECT_THAT(Debugfs(img, "stat /d"), HasSubstr("Type: directory"));
  EXPECT_EQ(Debugfs(img, "cat /d/x"), "x");
  EXPECT_THAT(Debugfs(img, "stat /e"), HasSubstr("Type: symlink"));
  EXPECT_THAT(Debugfs(img, "stat /m"), HasSubstr("Mode:  0711"));
  EXPECT_EQ(Debugfs(img, "cat /m/z"), "z");  // directories merge
}

TEST(BuildDir, MatchesHostTree) {
  TempDir dir;
  std::filesystem::create_directories(dir / "src/sub");
  FILE* f = fopen((dir / "src/sub/file").c_str(), "w");
  fputs("content", f);
  fclose(f);
  std::filesystem::create_symlink("sub/file", dir / "src/link");
  std::filesystem::create_hard_link(dir / "src/sub/file", dir / "src/hard");
  std::string img = dir / "out.ext4";
  auto result = BuildExt4FromDir(dir / "src", img, {});
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_EQ(Fsck(img), 0);
  EXPECT_EQ(Debugfs(img, "cat /sub/file"), "content");
  EXPECT_THAT(Debugfs(img, "stat /hard"), HasSubstr("Links: 2"));
  EXPECT_THAT(Debugfs(img, "stat /link"), HasSubstr("Fast link dest: \"sub/file\""));
  auto fingerprint = FingerprintInputs(InputKind::kDirectory, {dir / "src"}, 0);
  ASSERT_TRUE(fingerprint.ok());
  EXPECT_EQ(*ReadImageUuid(img), UuidFromFingerprint(*fingerprint));
  ASSERT_TRUE(BuildExt4FromDir(dir / "src", dir / "again.ext4", {}).ok());
  EXPECT_EQ(testing::ReadFile(img), testing::ReadFile(dir / "again.ext4"));
}

}  // namespace
}  // namespace vk::image
