// virtio-blk snapshots: a restored device serves the next request at the
// next ring position, and refuses a disk that is not the one it was saved
// with.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>

#include "virtio/blk/block_device.h"
#include "virtio/testing/fake_driver.h"

namespace vk::virtio {
namespace {

using testing::FakeDriver;
using testing::FakeGuest;

std::vector<uint8_t> ReadRequest(uint64_t sector) {
  std::vector<uint8_t> bytes(16, 0);  // type 0 = VIRTIO_BLK_T_IN
  std::memcpy(bytes.data() + 8, &sector, 8);
  return bytes;
}

class BlockStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/vk-blk-state.XXXXXX";
    int fd = ::mkstemp(name);
    ASSERT_GE(fd, 0);
    path_ = name;
    std::vector<uint8_t> image(16 * 512);
    for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<uint8_t>(i / 512);
    ASSERT_EQ(::write(fd, image.data(), image.size()), static_cast<ssize_t>(image.size()));
    ::close(fd);
  }
  void TearDown() override { ::unlink(path_.c_str()); }

  std::unique_ptr<VirtioDevice> Open() {
    auto device = CreateBlockDevice({path_, false, "disk"});
    EXPECT_TRUE(device.ok());
    return std::move(*device);
  }
  // Reads `sector`; returns the first data byte and checks the status.
  uint8_t ReadSector(FakeDriver& driver, uint64_t sector) {
    uint16_t head = driver.vq(0).AddChain({ReadRequest(sector)}, {512, 1});
    driver.Notify(0);
    auto used = driver.vq(0).NextUsed();
    EXPECT_TRUE(used.has_value());
    if (!used) return 0xff;
    EXPECT_EQ(used->id, head);
    EXPECT_EQ(used->length, 513u);
    std::vector<uint8_t> written = driver.vq(0).Written(head);
    EXPECT_EQ(written.back(), 0);  // VIRTIO_BLK_S_OK
    return written[0];
  }

  std::string path_;
  FakeGuest guest_;
};

TEST_F(BlockStateTest, TheNextReadAfterARestoreIsServedAtTheNextRingPosition) {
  FakeDriver driver(guest_, Open());
  driver.Start();
  EXPECT_EQ(ReadSector(driver, 3), 3);
  auto state = driver.Save();
  ASSERT_TRUE(state.ok()) << state.error().message();
  // The image is locked exclusively: the saved device goes away first.
  driver.Discard();
  auto restored = driver.Restore(Open(), *state);
  ASSERT_TRUE(restored.ok()) << restored.error().message();
  EXPECT_EQ(ReadSector(driver, 5), 5);
  EXPECT_EQ(driver.vq(0).UsedIdx(), 2);
}

TEST_F(BlockStateTest, ADiskOfAnotherSizeIsRefused) {
  FakeDriver driver(guest_, Open());
  driver.Start();
  auto state = driver.Save();
  ASSERT_TRUE(state.ok());
  ASSERT_EQ(::truncate(path_.c_str(), 8 * 512), 0);
  driver.Discard();
  auto restored = driver.Restore(Open(), *state);
  ASSERT_FALSE(restored.ok());
  EXPECT_NE(restored.error().message().find("8192 bytes"), std::string::npos)
      << restored.error().message();
}

TEST_F(BlockStateTest, ATemplatesEmptySlotTakesTheRestoredVmsDisk) {
  FakeDriver driver(guest_, CreateEmptyBlockSlot(/*read_only=*/false));
  driver.Start();
  EXPECT_EQ(driver.Read(0x100), 0u) << "an empty slot has no capacity";
  auto state = driver.Save();
  ASSERT_TRUE(state.ok()) << state.error().message();
  driver.Discard();
  auto restored = driver.Restore(Open(), *state);
  ASSERT_TRUE(restored.ok()) << restored.error().message();
  EXPECT_EQ(driver.Read(0x100), 16u) << "capacity in sectors";
  EXPECT_NE(driver.Read(0x060) & 2u, 0u) << "InterruptStatus: configuration change";
  EXPECT_EQ(ReadSector(driver, 5), 5);
}

TEST_F(BlockStateTest, AnEmptySlotOfAnotherWritabilityIsRefused) {
  FakeDriver driver(guest_, CreateEmptyBlockSlot(/*read_only=*/true));
  driver.Start();
  auto state = driver.Save();
  ASSERT_TRUE(state.ok());
  driver.Discard();
  EXPECT_FALSE(driver.Restore(Open(), *state).ok());
}

}  // namespace
}  // namespace vk::virtio
