// virtio-net snapshots: rx buffers the device held at save time are given
// back to the ring and filled by the restored device; frames that waited
// for buffers are delivered after the restore.
#include <gtest/gtest.h>

#include <cstring>

#include "virtio/net/net_device.h"
#include "virtio/testing/fake_driver.h"

namespace vk::virtio {
namespace {

using testing::FakeDriver;
using testing::FakeGuest;

std::unique_ptr<VirtioDevice> NewNet() {
  auto device = NetDevice::Create({});
  EXPECT_TRUE(device.ok());
  return std::move(*device);
}

std::vector<uint8_t> Frame(size_t size) {
  std::vector<uint8_t> frame(size);
  for (size_t i = 0; i < size; ++i) frame[i] = static_cast<uint8_t>(i * 7 + 2);
  return frame;
}

class NetStateTest : public ::testing::Test {
 protected:
  void SetUp() override { driver_.Start(vnet::kFeatureMrgRxBuf); }
  NetDevice& net() { return static_cast<NetDevice&>(driver_.device()); }
  uint16_t PostRx(uint32_t size) {
    uint16_t head = driver_.vq(0).AddChain({}, {size});
    driver_.Notify(0);
    return head;
  }
  void SaveAndRestore() {
    auto state = driver_.Save();
    ASSERT_TRUE(state.ok()) << state.error().message();
    auto restored = driver_.Restore(NewNet(), *state);
    ASSERT_TRUE(restored.ok()) << restored.error().message();
  }

  FakeGuest guest_;
  FakeDriver driver_{guest_, NewNet()};
};

TEST_F(NetStateTest, ARxBufferHeldAtSaveIsFilledAfterRestore) {
  // One 76-byte buffer for a 200-byte frame (+12 header): the device holds
  // the buffer and the frame waits for more.
  uint16_t held = PostRx(12 + 64);
  ASSERT_TRUE(net().Deliver(Frame(200)));
  driver_.Notify(0);
  ASSERT_FALSE(driver_.vq(0).NextUsed().has_value());
  SaveAndRestore();
  uint16_t more = PostRx(200);
  auto first = driver_.vq(0).NextUsed();
  auto second = driver_.vq(0).NextUsed();
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_EQ(first->id, held);  // the held buffer, filled first
  EXPECT_EQ(first->length, 76u);
  EXPECT_EQ(second->id, more);
  EXPECT_EQ(second->length, 212u - 76u);
  std::vector<uint8_t> bytes = driver_.vq(0).Written(held);
  vnet::NetHeader header;
  std::memcpy(&header, bytes.data(), sizeof(header));
  EXPECT_EQ(header.num_buffers, 2);
  std::vector<uint8_t> rest = driver_.vq(0).Written(more);
  bytes.insert(bytes.end(), rest.begin(), rest.begin() + second->length);
  EXPECT_EQ(std::vector<uint8_t>(bytes.begin() + 12, bytes.end()), Frame(200));
  EXPECT_FALSE(driver_.vq(0).NextUsed().has_value());
}

TEST_F(NetStateTest, HeldBuffersThatAreNotTheLastPoppedGoBackEmptyInsteadOfTwice) {
  uint16_t held = PostRx(12 + 64);
  ASSERT_TRUE(net().Deliver(Frame(200)));
  driver_.Notify(0);
  uint16_t tiny = PostRx(4);  // below the header size: returned at once
  auto returned = driver_.vq(0).NextUsed();
  ASSERT_TRUE(returned.has_value());
  EXPECT_EQ(returned->id, tiny);
  SaveAndRestore();
  // Unpop(1) would hand back `tiny`, which the guest already has: the held
  // buffer comes back empty instead, and the frame goes to a new buffer.
  auto empty = driver_.vq(0).NextUsed();
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->id, held);
  EXPECT_EQ(empty->length, 0u);
  uint16_t big = PostRx(300);
  auto filled = driver_.vq(0).NextUsed();
  ASSERT_TRUE(filled.has_value());
  EXPECT_EQ(filled->id, big);
  EXPECT_EQ(filled->length, 212u);
  EXPECT_FALSE(driver_.vq(0).NextUsed().has_value());
}

}  // namespace
}  // namespace vk::virtio
