#include "virtio/mmio_transport.h"

#include <gtest/gtest.h>

#include <cstring>
#include <optional>

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
    context_ = context;
    context.interrupt->Trigger(Interrupt::Reason::kUsedBuffer);
    return Ok();
  }
  // Pops one chain and holds it, as a device waiting for data does.
  void ProcessQueue(size_t index) override {
    notified.push_back(index);
    auto popped = context_.queues[index].Pop(*context_.memory);
    if (popped.ok() && popped->has_value()) held.emplace(std::move(**popped));
  }
  void Reset() override { ++resets; }
  // A held chain goes back to its ring, as VirtioDevice::SaveState asks.
  Result<void> SaveState(StateWriter& out) override {
    if (held) context_.queues[0].Unpop(1);
    held.reset();
    out.BeginRecord("rec", 1);
    out.U32(static_cast<uint32_t>(notified.size()));
    return Ok();
  }
  Result<void> RestoreState(StateReader& in) override {
    VK_TRY(in.ExpectRecord("rec", 1));
    restored_notifications = VK_TRY(in.U32());
    return Ok();
  }
  // Gives the held chain back (the device got its data late).
  Result<void> PushHeld(size_t index) {
    DescriptorChain chain = std::move(*held);
    held.reset();
    return context_.queues[index].Push(*context_.memory, std::move(chain), 4);
  }

  int activations = 0, resets = 0;
  uint32_t restored_notifications = 0;
  uint64_t features_seen = 0;
  std::vector<size_t> notified;
  std::optional<DescriptorChain> held;

 private:
  DeviceContext context_;
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
  struct Rings {
    uint64_t desc, avail, used;
  };
  Rings SetUpQueue(uint32_t index, uint16_t size) {
    Write(0x030, index);
    Write(0x038, size);
    Rings rings{guest_.Alloc(16 * size), guest_.Alloc(6 + 2 * size), guest_.Alloc(6 + 8 * size)};
    Write(0x080, static_cast<uint32_t>(rings.desc));
    Write(0x090, static_cast<uint32_t>(rings.avail));
    Write(0x0a0, static_cast<uint32_t>(rings.used));
    Write(0x044, 1);
    return rings;
  }
  // Publishes descriptor 0 (one writable 64-byte buffer) in the avail ring.
  void PublishOneChain(const Rings& rings) {
    uint64_t buffer = guest_.Alloc(64);
    uint8_t desc[16] = {};
    std::memcpy(desc, &buffer, 8);
    desc[8] = 64;
    desc[12] = 2;  // VIRTQ_DESC_F_WRITE
    guest_.Write(rings.desc, desc);
    uint8_t avail[6] = {0, 0, 1, 0, 0, 0};  // flags, idx = 1, ring[0] = 0
    guest_.Write(rings.avail, avail);
  }
  // Starts the device with queue 0 and lets it pop and hold one chain.
  Rings StartHoldingAChain() {
    Initialize(kFeatureVersion1);
    Rings rings = SetUpQueue(0, 16);
    Write(0x070, 3 | 8 | 4);
    PublishOneChain(rings);
    Write(0x050, 0);
    EXPECT_TRUE(device_->held.has_value());
    return rings;
  }
  uint16_t UsedIndex(const Rings& rings) {
    auto bytes = guest_.Read(rings.used + 2, 2);
    return static_cast<uint16_t>(bytes[0] | bytes[1] << 8);
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

TEST_F(MmioTransportTest, QueueReadyValidatesEveryTimeAlsoAfterDriverOk) {
  Rings rings = StartHoldingAChain();
  ASSERT_TRUE(device_->held.has_value());
  // The driver turns the queue off, shrinks it to 0 and turns it on again.
  Write(0x030, 0);
  Write(0x044, 0);
  Write(0x038, 0);
  Write(0x044, 1);
  EXPECT_EQ(Read(0x044), 0u);        // refused: size 0
  EXPECT_EQ(Read(0x070) & 64, 64u);  // DEVICE_NEEDS_RESET
  // The chain the device held belongs to the old ring: it is refused (before:
  // written with `% size` = 0, a division by zero).
  EXPECT_FALSE(device_->PushHeld(0).ok());
  EXPECT_EQ(UsedIndex(rings), 0);
  Write(0x050, 0);  // the queue is off: the device is not called
  EXPECT_EQ(device_->notified.size(), 1u);
}

TEST_F(MmioTransportTest, QueueReadyRefusesSizesAboveTheMaximumOrNotPowersOfTwo) {
  Initialize(kFeatureVersion1);
  SetUpQueue(1, 8);
  Write(0x070, 3 | 8 | 4);
  for (uint32_t size : {16u, 3u, 0xffffu, 0x10000u}) {
    Write(0x044, 0);
    Write(0x038, size);
    Write(0x044, 1);
    EXPECT_EQ(Read(0x044), 0u) << size;
  }
  Write(0x038, 4);
  Write(0x044, 1);
  EXPECT_EQ(Read(0x044), 1u);
}

TEST_F(MmioTransportTest, QueueReadyRefusesRingsOutsideGuestMemory) {
  Initialize(kFeatureVersion1);
  Write(0x030, 0);
  Write(0x038, 16);
  Write(0x080, 0xfffff000);  // descriptor table past the end of guest RAM
  Write(0x044, 1);
  EXPECT_EQ(Read(0x044), 0u);
  Write(0x070, 3 | 8 | 4);
  EXPECT_EQ(device_->activations, 0);  // a device that needs a reset is not started
}

TEST_F(MmioTransportTest, ChainsHeldAcrossAQueueRestartAreNotWrittenBack) {
  Rings rings = StartHoldingAChain();
  ASSERT_TRUE(device_->held.has_value());
  Write(0x044, 0);
  Write(0x044, 1);  // same, valid layout: a new generation of the ring
  EXPECT_EQ(Read(0x044), 1u);
  EXPECT_FALSE(device_->PushHeld(0).ok());
  EXPECT_EQ(UsedIndex(rings), 0);
}

TEST_F(MmioTransportTest, ResetDropsHeldChains) {
  Rings rings = StartHoldingAChain();
  ASSERT_TRUE(device_->held.has_value());
  Write(0x070, 0);
  EXPECT_FALSE(device_->PushHeld(0).ok());
  EXPECT_EQ(UsedIndex(rings), 0);
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

// Snapshots: a chain the device held goes back to the ring on save
// (Queue::Unpop), and the restored device pops the very same chain again.
TEST_F(MmioTransportTest, AChainHeldAtSaveIsPoppedAgainAfterRestore) {
  Rings rings = StartHoldingAChain();
  ASSERT_TRUE(device_->held.has_value());
  uint16_t head = device_->held->head();
  StateWriter out;
  ASSERT_TRUE(transport_->SaveState(out).ok());
  EXPECT_FALSE(device_->held.has_value());
  transport_.reset();

  auto device = std::make_unique<RecordingDevice>();
  device_ = device.get();
  transport_ = std::make_unique<MmioTransport>(std::move(device), &guest_.memory(), nullptr,
                                               std::make_unique<CountingInterrupt>());
  StateReader in(out.bytes());
  auto restored = transport_->RestoreState(in);
  ASSERT_TRUE(restored.ok()) << restored.error().message();
  EXPECT_TRUE(in.Finish().ok());
  EXPECT_EQ(device_->activations, 1);
  EXPECT_EQ(device_->restored_notifications, 1u);
  Write(0x050, 0);
  ASSERT_TRUE(device_->held.has_value());
  EXPECT_EQ(device_->held->head(), head);
  ASSERT_TRUE(device_->PushHeld(0).ok());
  EXPECT_EQ(UsedIndex(rings), 1);
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
