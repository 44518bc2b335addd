#include "virtio/mmio_transport.h"

#include <gtest/gtest.h>

#include <cstring>

#include "virtio/testing/fake_virtqueue.h"

namespace vk::virtio {
namespace {

using testing::CountingInterrupt;
using testing::FakeGuest;

// A device that records what the transport does to it.
class RecordingDevice : public VirtioDevice {
 public:
  DeviceType type() const override { return DeviceType::kRng; }
  std::string_view name() const override { return "recording"; }
  uint64_t features() const override { return 1ull << 3; }
  std::vector<uint16_t> queue_max_sizes() const override { return {16, 8}; }
  void ReadConfig(uint64_t offset, std::span<uint8_t> data) override {
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(offset + i);
  }
  Result<void> Activate(const DeviceContext& context) override {
    ++activations;
    features_seen = context.driver_features;
    context.interrupt->Trigger(Interrupt::Reason::kUsedBuffer);
    return Ok();
  }
  void ProcessQueue(size_t index) override { notified.push_back(index); }
  void Reset() override { ++resets; }

  int activations = 0, resets = 0;
  uint64_t features_seen = 0;
  std::vector<size_t> notified;
};

class MmioTransportTest : public ::testing::Test {
 protected:
  MmioTransportTest() {
    auto device = std::make_unique<RecordingDevice>();
    device_ = device.get();
    auto interrupt = std::make_unique<CountingInterrupt>();
    interrupt_ = interrupt.get();
    transport_ = std::make_unique<MmioTransport>(std::move(device), &guest_.memory(), nullptr,
                                                 std::move(interrupt));
  }
  uint32_t Read(uint64_t offset) {
    uint32_t value = 0;
    transport_->Read(offset, std::span(reinterpret_cast<uint8_t*>(&value), 4));
    return value;
  }
  void Write(uint64_t offset, uint32_t value) {
    transport_->Write(offset, std::span(reinterpret_cast<const uint8_t*>(&value), 4));
  }
  void SetUpQueue(uint32_t index, uint16_t size) {
    Write(0x030, index);
    Write(0x038, size);
    uint64_t desc = guest_.Alloc(16 * size), avail = guest_.Alloc(6 + 2 * size),
             used = guest_.Alloc(6 + 8 * size);
    Write(0x080, static_cast<uint32_t>(desc));
    Write(0x090, static_cast<uint32_t>(avail));
    Write(0x0a0, static_cast<uint32_t>(used));
    Write(0x044, 1);
  }
  // The driver side of §3.1.1 up to DRIVER_OK.
  void Initialize(uint64_t features) {
    Write(0x070, 1);  // ACKNOWLEDGE
    Write(0x070, 3);  // DRIVER
    Write(0x024, 0);
    Write(0x020, static_cast<uint32_t>(features));
    Write(0x024, 1);
    Write(0x020, static_cast<uint32_t>(features >> 32));
    Write(0x070, 3 | 8);  // FEATURES_OK
  }

  FakeGuest guest_;
  RecordingDevice* device_;
  CountingInterrupt* interrupt_;
  std::unique_ptr<MmioTransport> transport_;
};

TEST_F(MmioTransportTest, IdentityRegisters) {
  EXPECT_EQ(Read(0x000), 0x74726976u);
  EXPECT_EQ(Read(0x004), 2u);
  EXPECT_EQ(Read(0x008), 4u);  // rng
  Write(0x014, 0);
  EXPECT_EQ(Read(0x010), (1u << 3) | (1u << 28) | (1u << 29));
  Write(0x014, 1);
  EXPECT_EQ(Read(0x010), 1u);  // VERSION_1 is bit 32
  Write(0x030, 1);
  EXPECT_EQ(Read(0x034), 8u);
  Write(0x030, 7);
  EXPECT_EQ(Read(0x034), 0u);  // no such queue
}

TEST_F(MmioTransportTest, NegotiatesAndActivatesOnDriverOk) {
  Initialize(kFeatureVersion1 | kFeatureEventIdx);
  EXPECT_EQ(Read(0x070) & 8, 8u);
  SetUpQueue(0, 16);
  Write(0x070, 3 | 8 | 4);  // DRIVER_OK
  EXPECT_EQ(device_->activations, 1);
  EXPECT_EQ(device_->features_seen, kFeatureVersion1 | kFeatureEventIdx);
  EXPECT_EQ(Read(0x060), 1u);  // used-buffer interrupt pending
  EXPECT_EQ(interrupt_->count, 1);
  Write(0x064, 1);
  EXPECT_EQ(Read(0x060), 0u);
  Write(0x050, 0);
  Write(0x050, 5);  // no such queue: ignored
  EXPECT_EQ(device_->notified, std::vector<size_t>{0});
}

TEST_F(MmioTransportTest, RefusesUnofferedOrLegacyFeatures) {
  Initialize(kFeatureVersion1 | (1ull << 40));
  EXPECT_EQ(Read(0x070) & 8, 0u);
  Write(0x070, 0);
  Initialize(1ull << 3);  // no VERSION_1
  EXPECT_EQ(Read(0x070) & 8, 0u);
  Write(0x070, 3 | 4);
  EXPECT_EQ(device_->activations, 0);
}

TEST_F(MmioTransportTest, BadQueueLayoutAsksForReset) {
  Initialize(kFeatureVersion1);
  Write(0x030, 0);
  Write(0x038, 12);  // not a power of two
  Write(0x044, 1);
  Write(0x070, 3 | 8 | 4);
  EXPECT_EQ(device_->activations, 0);
  EXPECT_EQ(Read(0x070) & 64, 64u);  // DEVICE_NEEDS_RESET
}

TEST_F(MmioTransportTest, ResetClearsStateAndBumpsGeneration) {
  Initialize(kFeatureVersion1);
  SetUpQueue(0, 16);
  Write(0x070, 3 | 8 | 4);
  uint32_t generation = Read(0x0fc);
  Write(0x070, 0);
  EXPECT_EQ(device_->resets, 1);
  EXPECT_EQ(Read(0x070), 0u);
  Write(0x030, 0);
  EXPECT_EQ(Read(0x044), 0u);
  EXPECT_NE(Read(0x0fc), generation);
}

TEST_F(MmioTransportTest, ConfigSpaceAndOddAccessesNeverCrash) {
  uint8_t bytes[2];
  transport_->Read(0x104, bytes);
  EXPECT_EQ(bytes[0], 4);
  uint8_t wide[8];
  transport_->Read(0x008, wide);  // 8-byte register read: zeros
  EXPECT_EQ(wide[0], 0);
  transport_->Write(0x070, std::span<const uint8_t>(bytes, 1));  // 1-byte status write: ignored
  EXPECT_EQ(Read(0x070), 0u);
  Write(0x038, 0xffffffff);
  Write(0xffc, 1);
}

}  // namespace
}  // namespace vk::virtio
