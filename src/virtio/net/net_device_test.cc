#include "virtio/net/net_device.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>

#include "virtio/net/testing/frames.h"
#include "virtio/testing/fake_virtqueue.h"

namespace vk::virtio {
namespace {

using testing::FakeDeviceContext;
using testing::FakeGuest;
using testing::FakeVirtqueue;
using namespace vnet::testing;

// A backend that records frames (and can refuse them).
class RecordingSink : public net::FrameSink {
 public:
  bool Deliver(std::span<const uint8_t> frame) override {
    if (on_deliver) on_deliver(frame);
    if (!accept) return false;
    frames.emplace_back(frame.begin(), frame.end());
    return true;
  }
  std::vector<std::vector<uint8_t>> frames;
  bool accept = true;
  std::function<void(std::span<const uint8_t>)> on_deliver;
};

std::vector<uint8_t> Header(uint8_t flags = 0, uint8_t gso = 0, uint16_t gso_size = 0,
                            uint16_t csum_start = 0, uint16_t csum_offset = 0) {
  vnet::NetHeader h{flags, gso, 0, gso_size, csum_start, csum_offset, 0};
  std::vector<uint8_t> bytes(sizeof(h));
  std::memcpy(bytes.data(), &h, sizeof(h));
  return bytes;
}

std::vector<uint8_t> PlainFrame(size_t size, uint8_t seed = 1) {
  std::vector<uint8_t> frame(size);
  for (size_t i = 0; i < size; ++i) frame[i] = static_cast<uint8_t>(seed + i * 13);
  frame[0] = 0x02;  // unicast destination
  return frame;
}

class VirtioNetTest : public ::testing::Test {
 protected:
  void Start(NetOptions options = {}, uint64_t features = ~0ull, bool with_loop = false) {
    auto device = NetDevice::Create(options);
    ASSERT_TRUE(device.ok()) << device.error().message();
    device_ = std::move(*device);
    device_->SetBackend(&backend_);
    if (with_loop) loop_ = std::move(EventLoop::Create().value());
    rx_ = std::make_unique<FakeVirtqueue>(guest_, queues_[0]);
    tx_ = std::make_unique<FakeVirtqueue>(guest_, queues_[1]);
    context_ = std::make_unique<FakeDeviceContext>(guest_, std::span(queues_), loop_.get());
    context_->context.driver_features = features;
    ASSERT_TRUE(device_->Activate(context_->context).ok());
  }
  void Transmit(const std::vector<std::vector<uint8_t>>& parts) {
    tx_->AddChain(parts, {});
    Notify(1);
  }
  void Notify(size_t queue) {
    std::lock_guard lock(context_->lock);
    device_->ProcessQueue(queue);
  }
  void AddRxBuffers(int count, uint32_t size) {
    for (int i = 0; i < count; ++i) rx_->AddChain({}, {size});
    Notify(0);
  }
  // Next received frame: its header and the bytes of every chain it spans.
  std::optional<std::pair<vnet::NetHeader, std::vector<uint8_t>>> Received() {
    auto used = rx_->NextUsed();
    if (!used) return std::nullopt;
    std::vector<uint8_t> bytes = rx_->Written(static_cast<uint16_t>(used->id));
    bytes.resize(used->length);
    vnet::NetHeader h;
    std::memcpy(&h, bytes.data(), sizeof(h));
    std::vector<uint8_t> frame(bytes.begin() + sizeof(h), bytes.end());
    for (int i = 1; i < h.num_buffers; ++i) {
      auto more = rx_->NextUsed();
      if (!more) return std::nullopt;
      std::vector<uint8_t> part = rx_->Written(static_cast<uint16_t>(more->id));
      frame.insert(frame.end(), part.begin(), part.begin() + more->length);
    }
    return std::make_pair(h, frame);
  }
  int UsedTx() {
    int n = 0;
    while (tx_->NextUsed()) ++n;
    return n;
  }

  FakeGuest guest_{8 << 20};
  std::vector<Queue> queues_{Queue(256), Queue(256)};
  std::unique_ptr<FakeVirtqueue> rx_, tx_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<FakeDeviceContext> context_;
  std::unique_ptr<NetDevice> device_;
  RecordingSink backend_;
};

TEST_F(VirtioNetTest, ConfigSpaceHoldsMacStatusAndMtu) {
  NetOptions options;
  options.mac = {0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc};
  options.mtu = 9000;
  Start(options);
  uint8_t config[vnet::kConfigSize];
  device_->ReadConfig(0, config);
  EXPECT_EQ(0, std::memcmp(config, options.mac.data(), 6));
  uint16_t status, mtu;
  std::memcpy(&status, config + vnet::kConfigStatus, 2);
  std::memcpy(&mtu, config + vnet::kConfigMtu, 2);
  EXPECT_EQ(status, vnet::kStatusLinkUp);
  EXPECT_EQ(mtu, 9000);
  uint8_t tail[4] = {1, 1, 1, 1};
  device_->ReadConfig(vnet::kConfigMtu, std::span(tail, 2));  // a narrow read at an offset
  EXPECT_EQ(tail[0] | tail[1] << 8, 9000);
  device_->ReadConfig(4096, tail);
  EXPECT_EQ(tail[3], 0);
  uint64_t f = device_->features();
  for (uint64_t bit :
       {vnet::kFeatureMac, vnet::kFeatureStatus, vnet::kFeatureMtu, vnet::kFeatureMrgRxBuf,
        vnet::kFeatureCsum, vnet::kFeatureGuestCsum, vnet::kFeatureHostTso4}) {
    EXPECT_TRUE(f & bit) << bit;
  }
  EXPECT_EQ(device_->queue_max_sizes().size(), 2u);
}

TEST_F(VirtioNetTest, CreateRejectsBadOptions) {
  NetOptions small_mtu;
  small_mtu.mtu = 60;
  EXPECT_FALSE(NetDevice::Create(small_mtu).ok());
  NetOptions multicast;
  multicast.mac[0] = 0x01;
  EXPECT_FALSE(NetDevice::Create(multicast).ok());
}

TEST_F(VirtioNetTest, TxFrameReachesBackend) {
  Start();
  std::vector<uint8_t> frame = PlainFrame(60);
  Transmit({Header(), frame});
  ASSERT_EQ(backend_.frames.size(), 1u);
  EXPECT_EQ(backend_.frames[0], frame);
  EXPECT_EQ(UsedTx(), 1);
  EXPECT_EQ(device_->counters().tx_frames, 1u);
  EXPECT_EQ(device_->counters().tx_bytes, 60u);
  // Header and frame in one descriptor work the same.
  std::vector<uint8_t> joined = Header();
  joined.insert(joined.end(), frame.begin(), frame.end());
  Transmit({joined});
  ASSERT_EQ(backend_.frames.size(), 2u);
  EXPECT_EQ(backend_.frames[1], frame);
}

TEST_F(VirtioNetTest, TxCompletesPartialChecksums) {
  Start();
  for (uint8_t proto : {kTcp, kUdp}) {
    std::vector<uint8_t> frame = Ipv4Frame(proto, 999);
    EXPECT_FALSE(L4ChecksumValid(frame));
    uint16_t offset = proto == kTcp ? 16 : 6;
    Transmit({Header(vnet::kHeaderNeedsCsum, 0, 0, kL4, offset), frame});
    ASSERT_FALSE(backend_.frames.empty());
    EXPECT_TRUE(L4ChecksumValid(backend_.frames.back())) << int{proto};
    EXPECT_TRUE(IpChecksumValid(backend_.frames.back()));
  }
}

TEST_F(VirtioNetTest, TxSegmentsTsoFrames) {
  Start();
  std::vector<uint8_t> gso = Ipv4Frame(kTcp, 4000);
  Transmit({Header(vnet::kHeaderNeedsCsum, vnet::kGsoTcpV4, 1448, kL4, 16), gso});
  ASSERT_EQ(backend_.frames.size(), 3u);
  for (const auto& segment : backend_.frames) {
    EXPECT_LE(segment.size(), 1514u);
    EXPECT_TRUE(IpChecksumValid(segment));
    EXPECT_TRUE(L4ChecksumValid(segment));
  }
  EXPECT_EQ(device_->counters().tx_frames, 3u);
  EXPECT_EQ(UsedTx(), 1);
}

TEST_F(VirtioNetTest, TxDropsTsoWhenNotNegotiated) {
  Start(NetOptions{}, kFeatureVersion1 | vnet::kFeatureCsum);
  Transmit({Header(vnet::kHeaderNeedsCsum, vnet::kGsoTcpV4, 1448, kL4, 16), Ipv4Frame(kTcp, 4000)});
  EXPECT_TRUE(backend_.frames.empty());
  EXPECT_EQ(device_->counters().tx_dropped, 1u);
}

TEST_F(VirtioNetTest, TxDropsMalformedChains) {
  Start();
  std::vector<uint8_t> frame = PlainFrame(100);
  Transmit({std::vector<uint8_t>(8, 0)});                           // header too short
  Transmit({Header()});                                             // no frame
  Transmit({Header(), PlainFrame(10)});                             // shorter than Ethernet
  Transmit({Header(), PlainFrame(1500 + 14 + 4 + 1)});              // over the MTU
  Transmit({Header(vnet::kHeaderNeedsCsum, 0, 0, 90, 9), frame});   // csum past the end
  Transmit({Header(vnet::kHeaderNeedsCsum, 0, 0, 200, 0), frame});  // csum_start past the end
  Transmit({Header(0, 3 /* UDP */, 1400), frame});                  // gso not offered
  Transmit({Header(0, vnet::kGsoTcpV4 | vnet::kGsoEcn, 1400), frame});
  Transmit({Header(), PlainFrame(net::kMaxFrame + 1)});  // huge
  EXPECT_TRUE(backend_.frames.empty());
  EXPECT_EQ(device_->counters().tx_dropped, 9u);
  EXPECT_EQ(UsedTx(), 9);  // every chain went back to the driver
  // A descriptor claiming 4 GiB never reaches the device (Pop rejects it).
  uint64_t base = guest_.Alloc(16);
  tx_->SetDescriptor(200, base, 0xffffffff, 0, 0);
  tx_->Publish(200);
  Notify(1);
  EXPECT_EQ(UsedTx(), 1);
  // The device still works afterwards.
  Transmit({Header(), frame});
  EXPECT_EQ(backend_.frames.size(), 1u);
}

TEST_F(VirtioNetTest, TxCountsBackendRefusals) {
  Start();
  backend_.accept = false;
  Transmit({Header(), PlainFrame(60)});
  EXPECT_EQ(device_->counters().tx_dropped, 1u);
  EXPECT_EQ(device_->counters().tx_frames, 0u);
}

TEST_F(VirtioNetTest, RxFramesWaitForBuffers) {
  Start();
  std::vector<uint8_t> a = PlainFrame(60, 1), b = PlainFrame(1514, 2);
  EXPECT_TRUE(device_->Deliver(a));
  EXPECT_TRUE(device_->Deliver(b));
  EXPECT_FALSE(Received());
  AddRxBuffers(4, 2048);
  auto first = Received();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->first.num_buffers, 1);
  EXPECT_EQ(first->first.gso_type, vnet::kGsoNone);
  EXPECT_EQ(first->second, a);
  auto second = Received();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->second, b);
  EXPECT_GE(context_->interrupt.count, 1);
  EXPECT_EQ(device_->counters().rx_frames, 2u);
  EXPECT_EQ(device_->counters().rx_bytes, 60u + 1514u);
}

TEST_F(VirtioNetTest, RxMergeableFrameSpansBuffers) {
  NetOptions options;
  options.mtu = 9000;
  Start(options);
  AddRxBuffers(8, 1024);
  std::vector<uint8_t> frame = PlainFrame(3000);
  EXPECT_TRUE(device_->Deliver(frame));
  Notify(0);
  auto got = Received();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->first.num_buffers, 3);  // 12 + 3000 bytes in 1024-byte buffers
  EXPECT_EQ(got->second, frame);
  // The rest of the held buffers serve the next frame.
  EXPECT_TRUE(device_->Deliver(PlainFrame(100)));
  Notify(0);
  auto next = Received();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->second, PlainFrame(100));
}

TEST_F(VirtioNetTest, RxChainsHeldAcrossAQueueRestartAreDropped) {
  NetOptions options;
  options.mtu = 9000;
  Start(options);
  std::vector<uint8_t> frame = PlainFrame(3000);
  EXPECT_TRUE(device_->Deliver(frame));
  AddRxBuffers(2, 1024);  // the device holds both buffers and waits for a third
  EXPECT_FALSE(Received());
  // The driver turns the rx queue off and sets it up again on a new ring.
  queues_[0].set_ready(false);
  rx_ = std::make_unique<FakeVirtqueue>(guest_, queues_[0]);
  AddRxBuffers(4, 1024);
  auto got = Received();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->first.num_buffers, 3);
  EXPECT_EQ(got->second, frame);  // nothing went into the old ring's buffers
}

TEST_F(VirtioNetTest, RxWithoutMergeableNeedsOneBigBuffer) {
  NetOptions options;
  options.mtu = 9000;
  Start(options, kFeatureVersion1 | vnet::kFeatureMac);
  AddRxBuffers(1, 1024);
  EXPECT_TRUE(device_->Deliver(PlainFrame(3000)));  // does not fit: dropped
  EXPECT_TRUE(device_->Deliver(PlainFrame(500)));   // fits the same buffer
  Notify(0);
  auto got = Received();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->first.num_buffers, 1);
  EXPECT_EQ(got->second, PlainFrame(500));
  EXPECT_EQ(device_->counters().rx_dropped, 1u);
}

TEST_F(VirtioNetTest, RxQueueIsBounded) {
  NetOptions options;
  options.rx_queue_frames = 4;
  Start(options);
  int accepted = 0;
  for (int i = 0; i < 6; ++i) accepted += device_->Deliver(PlainFrame(100));
  EXPECT_EQ(accepted, 4);
  EXPECT_EQ(device_->counters().rx_dropped, 2u);

  NetOptions by_bytes;
  by_bytes.mtu = 9000;
  by_bytes.rx_queue_bytes = net::kMaxFrame;
  Start(by_bytes);
  accepted = 0;
  for (int i = 0; i < 10; ++i) accepted += device_->Deliver(PlainFrame(9014));
  EXPECT_EQ(accepted, 7);                            // 7 * 9014 <= 65549 < 8 * 9014
  EXPECT_FALSE(device_->Deliver(PlainFrame(9019)));  // over the MTU
}

TEST_F(VirtioNetTest, RxDropsTinyBuffersAndStuckFrames) {
  NetOptions options;
  options.mtu = 9000;
  Start(options);
  // A buffer below the header size goes back empty; a frame needing more
  // small buffers than the ring can hold is dropped instead of stalling rx.
  EXPECT_TRUE(device_->Deliver(PlainFrame(9000)));
  rx_->AddChain({}, {4});
  Notify(0);
  auto tiny = rx_->NextUsed();
  ASSERT_TRUE(tiny);
  EXPECT_EQ(tiny->length, 0u);
  for (int i = 0; i < 256; ++i) rx_->AddChain({}, {16});
  Notify(0);
  EXPECT_EQ(device_->counters().rx_dropped, 1u);
  EXPECT_TRUE(device_->Deliver(PlainFrame(60)));
  Notify(0);
  auto got = Received();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->first.num_buffers, 5);  // 72 bytes in 16-byte buffers
  EXPECT_EQ(got->second, PlainFrame(60));
}

TEST_F(VirtioNetTest, DeliverFlushesFromTheEventLoop) {
  Start({}, ~0ull, /*with_loop=*/true);
  AddRxBuffers(2, 2048);
  EXPECT_TRUE(device_->Deliver(PlainFrame(80)));
  EXPECT_TRUE(device_->Deliver(PlainFrame(90)));
  ASSERT_TRUE(loop_->RunOnce(100).ok());
  auto got = Received();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->second, PlainFrame(80));
  EXPECT_TRUE(Received());
}

TEST_F(VirtioNetTest, BackendMayAnswerSynchronously) {
  Start();
  AddRxBuffers(2, 2048);
  // A loopback backend delivers back into the device from inside tx.
  backend_.on_deliver = [this](std::span<const uint8_t> f) { device_->Deliver(f); };
  Transmit({Header(), PlainFrame(70)});
  auto got = Received();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->second, PlainFrame(70));
}

TEST_F(VirtioNetTest, NothingIsAcceptedBeforeActivationOrAfterReset) {
  auto device = NetDevice::Create({});
  ASSERT_TRUE(device.ok());
  EXPECT_FALSE((*device)->Deliver(PlainFrame(60)));
  Start();
  EXPECT_TRUE(device_->Deliver(PlainFrame(60)));
  device_->Reset();
  EXPECT_FALSE(device_->Deliver(PlainFrame(60)));
}

}  // namespace
}  // namespace vk::virtio
