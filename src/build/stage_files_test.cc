// StageFiles::MissingPaths: what a RUN's mount points add to the tree, which
// the upper reader leaves out of the layer (upper_layer.h, stubs).
#include "build/stage_files.h"

#include <gtest/gtest.h>

#include "image/test_support.h"

namespace vk::build {
namespace {

using image::testing::TempDir;
using Paths = std::vector<std::string>;

TEST(StageFilesTest, MissingPathsOfMountPoints) {
  TempDir dir;
  image::testing::WriteTar(dir / "base.tar",
                           {{.path = "run/", .type = AE_IFDIR, .perm = 0755},
                            {.path = "etc/", .type = AE_IFDIR, .perm = 0755},
                            {.path = "etc/token", .perm = 0600},
                            {.path = "usr/", .type = AE_IFDIR, .perm = 0755},
                            {.path = "usr/lib/", .type = AE_IFDIR, .perm = 0755},
                            {.path = "lib", .type = AE_IFLNK, .link = "usr/lib"}});
  auto files = StageFiles::Index({dir / "base.tar"});
  ASSERT_TRUE(files.ok()) << files.error().message();
  StageFiles& stage = **files;
  EXPECT_EQ(stage.MissingPaths("/scratch"), Paths{"scratch"});
  EXPECT_EQ(stage.MissingPaths("/run/secrets/greet"), (Paths{"run/secrets", "run/secrets/greet"}));
  EXPECT_EQ(stage.MissingPaths("/etc/token"), Paths{});  // the base's own file: never a stub
  EXPECT_EQ(stage.MissingPaths("/run"), Paths{});
  // The guest follows the base's symlink: the stub is where the mkdir lands.
  EXPECT_EQ(stage.MissingPaths("/lib/cache"), Paths{"usr/lib/cache"});
}

}  // namespace
}  // namespace vk::build
