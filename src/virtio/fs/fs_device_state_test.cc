// virtio-fs snapshots: a share the guest has not mounted (no FUSE session)
// is saved and restored; a mounted one is refused with a clear error.
#include <gtest/gtest.h>

#include "virtio/fs/fs_device.h"
#include "virtio/fs/fs_test_harness.h"
#include "virtio/testing/fake_driver.h"

namespace vk::virtio {
namespace {

using fs::testing::Req;
using fs::testing::TempDir;
using testing::FakeDriver;
using testing::FakeGuest;

class FsStateTest : public ::testing::Test {
 protected:
  std::unique_ptr<VirtioDevice> NewFs() {
    auto device = CreateFsDevice({dir_.path(), "share", false, 1});
    EXPECT_TRUE(device.ok());
    return std::move(*device);
  }
  // Sends FUSE_INIT on request queue 1; returns the reply's error field.
  int32_t Init(uint64_t unique) {
    fuse_init_in in{};
    in.major = FUSE_KERNEL_VERSION;
    in.minor = FUSE_KERNEL_MINOR_VERSION;
    uint16_t head = driver_.vq(1).AddChain({Req(FUSE_INIT, 0).Arg(in).Build(unique)}, {4096});
    driver_.Notify(1);
    auto used = driver_.vq(1).NextUsed();
    EXPECT_TRUE(used.has_value());
    fuse_out_header out{};
    std::memcpy(&out, driver_.vq(1).Written(head).data(), sizeof(out));
    return out.error;
  }

  TempDir dir_;
  FakeGuest guest_{8 << 20};
  FakeDriver driver_{guest_, NewFs()};
};

TEST_F(FsStateTest, AnUnmountedShareIsRestoredAndCanBeMountedAfterwards) {
  driver_.Start();
  auto state = driver_.Save();
  ASSERT_TRUE(state.ok()) << state.error().message();
  ASSERT_TRUE(driver_.Restore(NewFs(), *state).ok());
  EXPECT_EQ(Init(1), 0);
  EXPECT_EQ(driver_.vq(1).UsedIdx(), 1);
}

TEST_F(FsStateTest, AMountedShareCannotBeSnapshotted) {
  driver_.Start();
  ASSERT_EQ(Init(1), 0);
  auto state = driver_.Save();
  ASSERT_FALSE(state.ok());
  EXPECT_NE(state.error().message().find("'share' is mounted"), std::string::npos)
      << state.error().message();
  EXPECT_NE(state.error().message().find("cannot be snapshotted"), std::string::npos);
}

}  // namespace
}  // namespace vk::virtio
