// virtio-fs device plumbing: config space, queues, reset (virtio 1.2 §5.11).
#include "virtio/fs/fs_device.h"

#include <gtest/gtest.h>

#include "virtio/fs/fs_test_harness.h"

namespace vk::virtio {
namespace {

using fs::testing::FsHarness;
using fs::testing::Req;
using fs::testing::TempDir;

TEST(FsDeviceTest, ConfigSpaceHasTagAndQueueCount) {
  TempDir dir;
  auto device = CreateFsDevice({dir.path(), "myshare", false, 3});
  ASSERT_TRUE(device.ok()) << device.error().message();
  EXPECT_EQ((*device)->type(), DeviceType::kFs);
  EXPECT_EQ((*device)->queue_max_sizes().size(), 4u);  // hiprio + 3
  uint8_t config[44];
  (*device)->ReadConfig(0, config);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(config)), "myshare");
  uint32_t queues;
  std::memcpy(&queues, config + 36, 4);
  EXPECT_EQ(queues, 3u);
  EXPECT_EQ(config[40], 0);  // past the end reads zero
}

TEST(FsDeviceTest, RejectsBadOptions) {
  TempDir dir;
  EXPECT_FALSE(CreateFsDevice({dir.path(), "", false, 1}).ok());
  EXPECT_FALSE(CreateFsDevice({dir.path(), std::string(37, 't'), false, 1}).ok());
  EXPECT_TRUE(CreateFsDevice({dir.path(), std::string(36, 't'), false, 1}).ok());
  EXPECT_FALSE(CreateFsDevice({dir.path(), "t", false, 0}).ok());
  auto missing = CreateFsDevice({dir / "nope", "t", false, 1});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("nope"), std::string::npos);
}

TEST(FsDeviceTest, ServesEveryRequestQueueAndResets) {
  TempDir dir;
  FsHarness fs({dir.path(), "share", false, 2});
  ASSERT_EQ(fs.Init().error, 0);
  EXPECT_EQ(fs.Call(Req(FUSE_GETATTR, FUSE_ROOT_ID).Arg(fuse_getattr_in{}), 4096, 2).error, 0);
  auto reply = fs.Call(Req(FUSE_STATFS, FUSE_ROOT_ID), 4096, 1);
  EXPECT_EQ(reply.error, 0);
  EXPECT_EQ(reply.used_len, sizeof(fuse_out_header) + sizeof(fuse_statfs_out));
  fs.device().Reset();
  EXPECT_EQ(fs.GetAttr(FUSE_ROOT_ID).error, EIO);  // must INIT again
  EXPECT_EQ(fs.Init().error, 0);
}

}  // namespace
}  // namespace vk::virtio
