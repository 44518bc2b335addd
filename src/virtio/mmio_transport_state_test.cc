// Snapshots of the MMIO transport (mmio_transport.h SaveState/RestoreState):
// a restored transport carries on where the saved one stopped, and a state
// that is corrupted, truncated, for another device or describing queues the
// register path would refuse is refused whole.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "virtio/console/console_device.h"
#include "virtio/mmio_transport.h"
#include "virtio/rng/rng_device.h"
#include "virtio/testing/fake_driver.h"

namespace vk::virtio {
namespace {

using testing::FakeDriver;
using testing::FakeGuest;

constexpr uint32_t kStatusRunning = 1 | 2 | 4 | 8;  // ACK, DRIVER, DRIVER_OK, FEATURES_OK

// Offset of the `index`th queue record ("vq  " tag) in a saved state.
size_t QueueRecord(const std::vector<uint8_t>& state, size_t index = 0) {
  const char tag[] = {'v', 'q', ' ', ' ', 1, 0, 0, 0};
  auto it = state.begin();
  for (size_t i = 0; i <= index; ++i) {
    it = std::search(i == 0 ? it : it + 1, state.end(), tag, tag + sizeof(tag));
  }
  EXPECT_NE(it, state.end());
  return static_cast<size_t>(it - state.begin());
}
// Field offsets inside a queue record (queue.cc SaveState).
constexpr size_t kQueueSize = 8 + 2, kQueueDescTable = 8 + 2 + 2 + 3;

class TransportStateTest : public ::testing::Test {
 protected:
  // An rng that served one request: its used index is 1.
  std::vector<uint8_t> SavedAfterOneRequest() {
    driver_.Start();
    driver_.vq(0).AddChain({}, {32});
    driver_.Notify(0);
    EXPECT_EQ(driver_.vq(0).UsedIdx(), 1);
    auto state = driver_.Save();
    EXPECT_TRUE(state.ok()) << state.error().message();
    return *state;
  }

  FakeGuest guest_;
  FakeDriver driver_{guest_, CreateRngDevice()};
};

TEST_F(TransportStateTest, RestoredDeviceCarriesOnWhereTheSavedOneStopped) {
  std::vector<uint8_t> state = SavedAfterOneRequest();
  ASSERT_TRUE(driver_.vq(0).NextUsed().has_value());
  ASSERT_TRUE(driver_.Restore(CreateRngDevice(), state).ok());
  // The saved InterruptStatus was never acknowledged: the line is raised
  // again (the saved interrupt controllers may have missed it).
  EXPECT_EQ(driver_.interrupt().count, 1);
  EXPECT_EQ(driver_.Read(0x070), kStatusRunning);
  driver_.Write(0x030, 0);
  EXPECT_EQ(driver_.Read(0x044), 1u);  // queue still ready
  uint16_t head = driver_.vq(0).AddChain({}, {16});
  driver_.Notify(0);
  // The next used element lands at index 1, not over the first one.
  EXPECT_EQ(driver_.vq(0).UsedIdx(), 2);
  auto used = driver_.vq(0).NextUsed();
  ASSERT_TRUE(used.has_value());
  EXPECT_EQ(used->id, head);
  EXPECT_EQ(used->length, 16u);
  EXPECT_EQ(driver_.interrupt().count, 2);
  EXPECT_EQ(driver_.Read(0x060), 1u);  // InterruptStatus: used buffer
}

TEST_F(TransportStateTest, AStateOfAnotherDeviceTypeIsRefused) {
  std::vector<uint8_t> state = SavedAfterOneRequest();
  auto restored = driver_.Restore(CreateConsoleDevice({}), state);
  ASSERT_FALSE(restored.ok());
  EXPECT_NE(restored.error().message().find("virtio-console"), std::string::npos)
      << restored.error().message();
  EXPECT_EQ(driver_.Read(0x070), 0u);  // left as freshly created
}

TEST_F(TransportStateTest, RestoreNeedsAFreshTransport) {
  std::vector<uint8_t> state = SavedAfterOneRequest();
  StateReader in(state);
  EXPECT_FALSE(driver_.transport().RestoreState(in).ok());  // this one is running
}

TEST_F(TransportStateTest, TruncatedStatesFailCleanly) {
  std::vector<uint8_t> state = SavedAfterOneRequest();
  for (size_t size = 0; size < state.size(); ++size) {
    auto restored = driver_.Restore(CreateRngDevice(), std::span(state).first(size));
    EXPECT_FALSE(restored.ok()) << size;
    EXPECT_EQ(driver_.Read(0x070), 0u) << size;
  }
  EXPECT_TRUE(driver_.Restore(CreateRngDevice(), state).ok());
}

TEST_F(TransportStateTest, CorruptedStatesNeverCrash) {
  std::vector<uint8_t> state = SavedAfterOneRequest();
  for (size_t i = 0; i < state.size(); ++i) {
    for (uint8_t flip : {0x01, 0x80, 0xff}) {
      std::vector<uint8_t> bad = state;
      bad[i] ^= flip;
      auto restored = driver_.Restore(CreateRngDevice(), bad);
      // Either refused, or a state the register path could have produced
      // (e.g. another feature-select value): the device still works.
      if (!restored.ok()) continue;
      driver_.vq(0).AddChain({}, {8});
      driver_.Notify(0);
    }
  }
}

TEST_F(TransportStateTest, QueueSizesTheRegistersRefuseAreRefused) {
  std::vector<uint8_t> state = SavedAfterOneRequest();
  size_t at = QueueRecord(state) + kQueueSize;
  for (uint16_t size : {0, 3, 128}) {  // zero, not a power of two, above the maximum (64)
    std::vector<uint8_t> bad = state;
    std::memcpy(bad.data() + at, &size, 2);
    auto restored = driver_.Restore(CreateRngDevice(), bad);
    ASSERT_FALSE(restored.ok()) << size;
    EXPECT_NE(restored.error().message().find("queue size"), std::string::npos)
        << restored.error().message();
  }
}

TEST_F(TransportStateTest, RingsOutsideGuestMemoryAreRefused) {
  std::vector<uint8_t> state = SavedAfterOneRequest();
  size_t at = QueueRecord(state) + kQueueDescTable;
  for (uint64_t address : {uint64_t{4 << 20} - 16, uint64_t{0xfffffffffffff000}}) {
    std::vector<uint8_t> bad = state;
    std::memcpy(bad.data() + at, &address, 8);
    auto restored = driver_.Restore(CreateRngDevice(), bad);
    ASSERT_FALSE(restored.ok());
    EXPECT_NE(restored.error().message().find("outside guest memory"), std::string::npos)
        << restored.error().message();
  }
}

TEST_F(TransportStateTest, ATransportNeverStartedRestoresWithoutItsDevice) {
  driver_.Write(0x070, 1);
  driver_.Write(0x014, 1);
  auto state = driver_.Save();
  ASSERT_TRUE(state.ok());
  ASSERT_TRUE(driver_.Restore(CreateRngDevice(), *state).ok());
  EXPECT_EQ(driver_.Read(0x070), 1u);
  EXPECT_EQ(driver_.Read(0x010), 1u);  // DeviceFeaturesSel 1: VERSION_1 (bit 32)
}

}  // namespace
}  // namespace vk::virtio
