#include "capi/config_validation.h"

#include <gtest/gtest.h>

namespace vk::capi {
namespace {

TEST(ConfigValidationTest, NeedsExactlyOneRoot) {
  KrunConfig config;
  auto none = ValidateConfig(config);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().errno_value(), EINVAL);
  EXPECT_NE(none.error().message().find("krun_set_root"), std::string::npos);

  config.root_dir = "/srv/root";
  EXPECT_TRUE(ValidateConfig(config).ok());
  config.shares.push_back({.tag = kRootTag, .host_path = "/srv/other"});
  EXPECT_FALSE(ValidateConfig(config).ok());

  KrunConfig share_root;
  share_root.shares.push_back({.tag = kRootTag, .host_path = "/srv/root"});
  EXPECT_TRUE(ValidateConfig(share_root).ok());

  KrunConfig disk_root;
  disk_root.disks.push_back({.block_id = "root", .path = "/img"});
  disk_root.root_disk_remount = RootDiskRemount{.device = "/dev/vda1"};
  EXPECT_TRUE(ValidateConfig(disk_root).ok());
}

TEST(ConfigValidationTest, RefusesRepeatedTags) {
  KrunConfig config;
  config.root_dir = "/srv/root";
  config.shares.push_back({.tag = "data", .host_path = "/a"});
  config.shares.push_back({.tag = "data", .host_path = "/b"});
  EXPECT_FALSE(ValidateConfig(config).ok());
}

TEST(ConfigValidationTest, RemountDeviceMustBeOneOfTheDisks) {
  KrunConfig config;
  config.disks.push_back({.block_id = "root", .path = "/img"});
  config.root_disk_remount = RootDiskRemount{.device = "/dev/vdb"};
  EXPECT_FALSE(ValidateConfig(config).ok());
  config.root_disk_remount->device = "/dev/disk/by-label/root";  // the guest resolves it
  EXPECT_TRUE(ValidateConfig(config).ok());
}

}  // namespace
}  // namespace vk::capi
