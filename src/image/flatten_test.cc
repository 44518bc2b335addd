// OCI layer flattening (image-spec layer.md "Whiteouts") to ext4 and to tar,
// and a realistic busybox root filesystem.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "image/build.h"
#include "image/test_support.h"

namespace vk::image {
namespace {

using testing::Debugfs;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::TempDir;

void WriteLayers(const TempDir& dir) {
  testing::WriteTar(dir / "l1.tar", {{.path = "etc/", .type = AE_IFDIR, .perm = 0755},
                                     {.path = "etc/a", .data = "a1"},
                                     {.path = "etc/b", .data = "b1"},
                                     {.path = "opq/", .type = AE_IFDIR, .perm = 0755},
                                     {.path = "opq/old", .data = "old"},
                                     {.path = "gone/", .type = AE_IFDIR, .perm = 0755},
                                     {.path = "gone/deep", .data = "deep"}});
  testing::WriteTar(dir / "l2.tar",
                    {{.path = "etc/.wh.a"},
                     {.path = "etc/c", .data = "c2"},
                     {.path = "opq/new", .data = "new"},
                     {.path = "opq/.wh..wh..opq"},
                     {.path = ".wh.gone"},
                     {.path = "etc/.wh.c"}},  // same layer: no effect
                    /*gzip=*/true);
  testing::WriteTar(dir / "l3.tar", {{.path = "etc/a", .data = "a3"},
                                     {.path = "etc/.wh.b"},
                                     {.path = "gone/", .type = AE_IFDIR, .perm = 0700}});
}

void ExpectFlattened(const std::string& img) {
  EXPECT_EQ(Debugfs(img, "cat /etc/a"), "a3");
  EXPECT_THAT(Debugfs(img, "ls /etc"), Not(HasSubstr(" b ")));
  EXPECT_EQ(Debugfs(img, "cat /etc/c"), "c2");
  EXPECT_THAT(Debugfs(img, "ls /etc"), Not(HasSubstr(".wh.")));
  EXPECT_EQ(Debugfs(img, "cat /opq/new"), "new");
  EXPECT_THAT(Debugfs(img, "ls /opq"), Not(HasSubstr("old")));
  EXPECT_THAT(Debugfs(img, "ls /opq"), Not(HasSubstr(".wh.")));
  EXPECT_THAT(Debugfs(img, "stat /gone"), HasSubstr("Mode:  0700"));
  EXPECT_THAT(Debugfs(img, "ls /gone"), Not(HasSubstr("deep")));
}

TEST(Flatten, WhiteoutsAndOpaqueDirsToExt4) {
  TempDir dir;
  WriteLayers(dir);
  std::vector<std::string> layers = {dir / "l1.tar", dir / "l2.tar", dir / "l3.tar"};
  auto result = FlattenLayersToExt4(layers, dir / "out.ext4", {});
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_EQ(testing::Fsck(dir / "out.ext4"), 0);
  ExpectFlattened(dir / "out.ext4");
  auto fingerprint = FingerprintInputs(InputKind::kOciLayers, layers, 0);
  EXPECT_EQ(*ReadImageUuid(dir / "out.ext4"), UuidFromFingerprint(*fingerprint));
}

TEST(Flatten, ToTarThenExt4GivesTheSameTree) {
  TempDir dir;
  WriteLayers(dir);
  std::vector<std::string> layers = {dir / "l1.tar", dir / "l2.tar", dir / "l3.tar"};
  auto flat = FlattenLayersToTar(layers, dir / "flat.tar");
  ASSERT_TRUE(flat.ok()) << flat.error().message();
  ASSERT_TRUE(FlattenLayersToTar(layers, dir / "flat2.tar").ok());
  EXPECT_EQ(testing::ReadFile(dir / "flat.tar"), testing::ReadFile(dir / "flat2.tar"));
  auto result = BuildExt4FromTars({dir / "flat.tar"}, Whiteouts::kLiteral, dir / "out.ext4", {});
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_EQ(testing::Fsck(dir / "out.ext4"), 0);
  ExpectFlattened(dir / "out.ext4");
}

// Debian's busybox-static with its applet symlinks: a realistic small root.
TEST(Flatten, BusyboxRoot) {
  const char* busybox = "/bin/busybox";
  if (!std::filesystem::exists(busybox)) GTEST_SKIP() << "busybox-static not installed";
  TempDir dir;
  std::filesystem::create_directories(dir / "root/bin");
  std::filesystem::copy_file(busybox, dir / "root/bin/busybox");
  std::string applets = testing::Run(std::string(busybox) + " --list");
  size_t count = 0;
  for (size_t pos = 0, end; (end = applets.find('\n', pos)) != std::string::npos; pos = end + 1) {
    std::string name = applets.substr(pos, end - pos);
    if (name.empty() || name == "busybox") continue;
    std::filesystem::create_symlink("busybox", dir / ("root/bin/" + name));
    ++count;
  }
  int status = 0;
  testing::Run("tar -C " + (dir / "root") + " -czf " + (dir / "rootfs.tar.gz") + " .", &status);
  ASSERT_EQ(status, 0);
  std::string img = dir / "rootfs.ext4";
  ASSERT_TRUE(BuildExt4FromTars({dir / "rootfs.tar.gz"}, Whiteouts::kLiteral, img, {}).ok());
  EXPECT_EQ(testing::Fsck(img), 0);
  Debugfs(img, "dump /bin/busybox " + (dir / "busybox.out"));
  EXPECT_EQ(testing::ReadFile(dir / "busybox.out"), testing::ReadFile(busybox));
  EXPECT_THAT(Debugfs(img, "stat /bin/sh"), HasSubstr("Fast link dest: \"busybox\""));
  EXPECT_GT(count, 100u);
}

}  // namespace
}  // namespace vk::image
