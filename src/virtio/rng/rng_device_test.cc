#include "virtio/rng/rng_device.h"

#include <gtest/gtest.h>

#include "virtio/testing/fake_virtqueue.h"

namespace vk::virtio {
namespace {

using testing::FakeDeviceContext;
using testing::FakeGuest;
using testing::FakeVirtqueue;

TEST(RngDeviceTest, FillsWritableBuffersWithRandomBytes) {
  FakeGuest guest;
  std::vector<Queue> queues{Queue(64)};
  FakeVirtqueue vq(guest, queues[0]);
  FakeDeviceContext context(guest, queues);
  auto device = CreateRngDevice();
  ASSERT_TRUE(device->Activate(context.context).ok());
  uint16_t first = vq.AddChain({}, {64});
  uint16_t second = vq.AddChain({}, {32, 32});
  device->ProcessQueue(0);
  auto used = vq.NextUsed();
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->length, 64u);
  ASSERT_TRUE(vq.NextUsed().has_value());
  EXPECT_NE(vq.Written(first), vq.Written(second));  // 2^-512 chance of a false failure
  EXPECT_EQ(context.interrupt.count, 1);
}

TEST(RngDeviceTest, HugeRequestsAreBounded) {
  FakeGuest guest(8 << 20);
  std::vector<Queue> queues{Queue(64)};
  FakeVirtqueue vq(guest, queues[0]);
  FakeDeviceContext context(guest, queues);
  auto device = CreateRngDevice();
  ASSERT_TRUE(device->Activate(context.context).ok());
  vq.AddChain({}, {4 << 20});
  device->ProcessQueue(0);
  auto used = vq.NextUsed();
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->length, 64u * 1024);
}

TEST(RngDeviceTest, ReadOnlyChainGetsNothing) {
  FakeGuest guest;
  std::vector<Queue> queues{Queue(64)};
  FakeVirtqueue vq(guest, queues[0]);
  FakeDeviceContext context(guest, queues);
  auto device = CreateRngDevice();
  ASSERT_TRUE(device->Activate(context.context).ok());
  vq.AddChain({{1, 2, 3}}, {});
  device->ProcessQueue(0);
  auto used = vq.NextUsed();
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->length, 0u);
}

}  // namespace
}  // namespace vk::virtio
