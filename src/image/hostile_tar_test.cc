// Hostile archives are refused with a clear error, and no output appears.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "image/build.h"
#include "image/test_support.h"

namespace vk::image {
namespace {

using ::testing::HasSubstr;
using testing::TarEntrySpec;
using testing::TempDir;

std::string BuildError(const std::vector<TarEntrySpec>& entries, const BuildOptions& options = {}) {
  TempDir dir;
  testing::WriteTar(dir / "in.tar", entries);
  auto result = BuildExt4FromTars({dir / "in.tar"}, Whiteouts::kLiteral, dir / "out.ext4", options);
  EXPECT_FALSE(std::filesystem::exists(dir / "out.ext4"));
  // Nothing but the input is left behind (no temp image, nothing extracted).
  size_t files = 0;
  for (auto& entry : std::filesystem::directory_iterator(dir.path())) files += entry.exists();
  EXPECT_EQ(files, 1u);
  return result.ok() ? "" : result.error().message();
}

TEST(HostileTar, TraversalRefused) {
  EXPECT_THAT(BuildError({{.path = "../x", .data = "x"}}), HasSubstr("escapes the root"));
  EXPECT_THAT(BuildError({{.path = "a/../../x", .data = "x"}}), HasSubstr("escapes the root"));
  EXPECT_THAT(BuildError({{.path = "/../../abs", .data = "x"}}), HasSubstr("escapes the root"));
}

TEST(HostileTar, WriteThroughSymlinkRefused) {
  EXPECT_THAT(BuildError({{.path = "link", .type = AE_IFLNK, .link = "/etc"},
                          {.path = "link/passwd", .data = "owned"}}),
              HasSubstr("parent 'link' is a symlink"));
  EXPECT_THAT(BuildError({{.path = "d/", .type = AE_IFDIR},
                          {.path = "d/up", .type = AE_IFLNK, .link = "../.."},
                          {.path = "d/up/x", .data = "x"}}),
              HasSubstr("parent 'd/up' is a symlink"));
}

TEST(HostileTar, BadHardLinksRefused) {
  EXPECT_THAT(BuildError({{.path = "h", .hardlink = "../../etc/shadow"}}),
              HasSubstr("escapes the root"));
  EXPECT_THAT(BuildError({{.path = "h", .hardlink = "missing"}}), HasSubstr("is missing"));
  EXPECT_THAT(BuildError({{.path = "d/", .type = AE_IFDIR}, {.path = "h", .hardlink = "d"}}),
              HasSubstr("is directory"));
  EXPECT_THAT(
      BuildError({{.path = "s", .type = AE_IFLNK, .link = "x"}, {.path = "h", .hardlink = "s"}}),
      HasSubstr("is symlink"));
}

TEST(HostileTar, BombsOverTheCapsRefused) {
  BuildOptions options;
  options.limits.max_entries = 10;
  std::vector<TarEntrySpec> many;
  for (int i = 0; i < 20; ++i) many.push_back({.path = "f" + std::to_string(i)});
  EXPECT_THAT(BuildError(many, options), HasSubstr("more than 10 entries"));
  options = {};
  options.limits.max_total_bytes = 1000;
  EXPECT_THAT(BuildError({{.path = "a", .data = std::string(600, 'a')},
                          {.path = "b", .data = std::string(600, 'b')}},
                         options),
              HasSubstr("exceeds the limit of 1000 bytes"));
  options = {};
  options.size_bytes = 1 << 20;
  EXPECT_THAT(BuildError({{.path = "a", .data = std::string(2 << 20, 'a')}}, options),
              HasSubstr("too small"));
}

TEST(HostileTar, MalformedNamesRefused) {
  EXPECT_THAT(BuildError({{.path = std::string(300, 'x'), .data = "x"}}),
              HasSubstr("longer than 255 bytes"));
  EXPECT_THAT(BuildError({{.path = "lost+found", .data = "x"}}), HasSubstr("must be a directory"));
}

TEST(FsTreeNormalize, StaysInsideRoot) {
  FsTree tree{Limits{}};
  auto parts = tree.Normalize("./a//b/./c/../d/");
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(*parts, (std::vector<std::string>{"a", "b", "d"}));
  EXPECT_TRUE(tree.Normalize(".").ok());
  EXPECT_FALSE(tree.Normalize("").ok());
  EXPECT_FALSE(tree.Normalize("a/../..").ok());
}

}  // namespace
}  // namespace vk::image

namespace vk::image {
namespace {

// umoci and some exporters write absolute member names ("/", "/etc/x"): they
// mean the image root, as GNU tar and docker read them.
TEST(HostileTar, AbsoluteNamesLandInsideTheRoot) {
  TempDir dir;
  testing::WriteTar(dir / "in.tar", {{.path = "/", .type = AE_IFDIR, .perm = 0755},
                                     {.path = "/etc/", .type = AE_IFDIR, .perm = 0755},
                                     {.path = "/etc/name", .data = "inside"},
                                     {.path = "/etc/hard", .hardlink = "/etc/name"}});
  auto built = BuildExt4FromTars({dir / "in.tar"}, Whiteouts::kLiteral, dir / "out.ext4", {});
  ASSERT_TRUE(built.ok()) << built.error().message();
  EXPECT_EQ(testing::Debugfs(dir / "out.ext4", "cat /etc/name"), "inside");
  EXPECT_EQ(testing::Debugfs(dir / "out.ext4", "cat /etc/hard"), "inside");
  EXPECT_EQ(testing::Fsck(dir / "out.ext4"), 0);
}

}  // namespace
}  // namespace vk::image
