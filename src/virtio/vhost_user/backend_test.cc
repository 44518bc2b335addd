#include "virtio/vhost_user/backend.h"

#include <gtest/gtest.h>
#include <linux/fuse.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <optional>

#include "base/unix_socket.h"
#include "virtio/fs/fs_test_harness.h"
#include "virtio/queue_drain.h"
#include "virtio/vhost_user/server.h"
#include "virtio/vhost_user/testing/fake_front_end.h"
#include "virtio/vsock/vsock_device.h"

namespace vk::virtio::vhost_user {
namespace {

// A device that records what the back end does to it and answers every
// chain with "done" in its writable part.
class RecordingDevice : public VirtioDevice {
 public:
  DeviceType type() const override { return DeviceType::kRng; }
  std::string_view name() const override { return "recording"; }
  uint64_t features() const override { return 1ull << 3; }
  std::vector<uint16_t> queue_max_sizes() const override { return {16, 8}; }
  void ReadConfig(uint64_t offset, std::span<uint8_t> data) override {
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(0xa0 + offset + i);
  }
  void WriteConfig(uint64_t offset, std::span<const uint8_t> data) override {
    written_config.assign(data.begin(), data.end());
    written_offset = offset;
  }
  Result<void> Activate(const DeviceContext& context) override {
    ++activations;
    features_seen = context.driver_features;
    context_ = context;
    return Ok();
  }
  void ProcessQueue(size_t index) override {
    processed.push_back(index);
    DrainQueue(context_, index, name(), [this](const DescriptorChain& chain) -> uint32_t {
      ChainWriter writer(*context_.memory, chain);
      static constexpr uint8_t kDone[] = {'d', 'o', 'n', 'e'};
      return writer.Write(std::span<const uint8_t>(kDone)).ok() ? 4 : 0;
    });
  }
  void Reset() override { ++resets; }
  Result<void> SaveState(StateWriter&) override { return Ok(); }
  Result<void> RestoreState(StateReader&) override { return Ok(); }

  int activations = 0;
  int resets = 0;
  uint64_t features_seen = 0;
  std::vector<size_t> processed;
  std::vector<uint8_t> written_config;
  uint64_t written_offset = 0;

 private:
  DeviceContext context_;
};

constexpr uint64_t kRamBytes = 1 << 20;
constexpr uint16_t kRingSize = 8;

using testing::DriverRing;
using testing::FakeFrontEnd;
using testing::RingFds;
using testing::SharedMemory;

std::vector<uint8_t> VringState_(uint32_t index, uint32_t num) {
  return EncodeVringState({index, num});
}

class VhostUserBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop_ = std::move(EventLoop::Create().value());
    auto device = std::make_unique<RecordingDevice>();
    device_ = device.get();
    backend_ = std::make_unique<VhostUserBackend>(std::move(device), loop_.get());
    Connect();
    user_base_ = ram_.user_address();
    for (uint16_t i = 0; i < 2; ++i) rings_.emplace_back(ram_, 0x10000 + i * 0x20000ull, kRingSize);
  }

  void Connect() {
    auto [front, back] = FakeFrontEnd::SocketPair();
    ASSERT_TRUE(backend_->Serve(std::move(back)).ok());
    Attach(std::move(front));
  }
  // A front end on `socket`, on this thread's loop; its failures are ours.
  void Attach(UniqueFd socket) {
    front_ = std::make_unique<FakeFrontEnd>(std::move(socket), loop_.get());
    front_->set_on_error([](const std::string& message) { ADD_FAILURE() << message; });
  }

  void Negotiate(uint64_t features = kFeatureVersion1 | kFeatureProtocolFeatures) {
    auto offered = front_->Negotiate(features);
    EXPECT_EQ(offered.features & features, features);
    EXPECT_EQ(offered.protocol_features, backend_->offered_protocol_features());
    EXPECT_TRUE(offered.ok);
  }
  bool SetMemTable(int fd, std::optional<uint64_t> user = std::nullopt, uint64_t size = kRamBytes,
                   uint64_t offset = 0) {
    MemoryRegion region{0, size, user.value_or(user_base_), offset};
    return front_->Ack(Request::kSetMemTable, EncodeMemoryTable({&region, 1}), {fd});
  }
  VringAddress Address(uint32_t index) const { return rings_[index].Address(index); }
  // SET_VRING_NUM/BASE/ADDR/CALL/KICK for one ring, as vhost_virtqueue_start does.
  bool StartRing(uint32_t index, uint16_t base = 0) {
    return front_->StartRing(index, rings_[index], fds_[index], base);
  }
  bool Enable(uint32_t index, uint32_t on = 1) { return front_->EnableRing(index, on); }
  // The whole start sequence of a front end.
  void StartDevice() {
    Negotiate();
    ASSERT_TRUE(front_->SetMemTable(ram_));
    for (uint32_t i = 0; i < 2; ++i) ASSERT_TRUE(StartRing(i));
    for (uint32_t i = 0; i < 2; ++i) ASSERT_TRUE(Enable(i));
    ASSERT_TRUE(backend_->activated());
  }
  void Kick(uint32_t index) { front_->Kick(fds_[index]); }
  // Reads (and clears) the call eventfd's counter; 0 when not signalled.
  uint64_t Calls(uint32_t index) { return fds_[index].TakeCalls(); }

  std::unique_ptr<EventLoop> loop_;
  RecordingDevice* device_ = nullptr;
  std::unique_ptr<VhostUserBackend> backend_;
  std::unique_ptr<FakeFrontEnd> front_;
  SharedMemory ram_{kRamBytes};
  uint64_t user_base_ = 0;  // where the "front end" mapped RAM
  std::vector<DriverRing> rings_;
  RingFds fds_[2];
};

const uint8_t kRequest[] = {1, 2, 3};

TEST_F(VhostUserBackendTest, NegotiatesFeatures) {
  uint64_t offered = front_->GetU64(Request::kGetFeatures);
  EXPECT_EQ(offered, (1ull << 3) | kFeatureVersion1 | kFeatureEventIdx | kFeatureIndirectDesc |
                         kFeatureProtocolFeatures);
  EXPECT_EQ(front_->GetU64(Request::kGetQueueNum), 2u);
  Negotiate(kFeatureVersion1 | kFeatureProtocolFeatures | (1ull << 3));
  // Bits never offered are refused.
  EXPECT_FALSE(front_->Ack(Request::kSetFeatures, EncodeU64(kFeatureVersion1 | (1ull << 40))));
  EXPECT_FALSE(front_->Ack(Request::kSetProtocolFeatures, EncodeU64(kProtocolFeatureMq)));
  // Without NEED_REPLY, a request gets no answer.
  EXPECT_FALSE(front_->Send(Request::kSetOwner).has_value());
  EXPECT_FALSE(front_->Closed());
}

// `vk virtiofsd` without --tag offers no CONFIG (QEMU's vhost-user-fs warns
// about it); the offer shrinks and the front end may not take it.
TEST_F(VhostUserBackendTest, ConfigCanBeLeftOutOfTheOffer) {
  EXPECT_NE(front_->GetU64(Request::kGetProtocolFeatures) & kProtocolFeatureConfig, 0u);
  backend_->WithoutConfig();
  EXPECT_EQ(front_->GetU64(Request::kGetProtocolFeatures),
            VhostUserBackend::kOfferedProtocolFeatures & ~kProtocolFeatureConfig);
  Negotiate();  // REPLY_ACK on, so the refusal below is answered
  EXPECT_FALSE(front_->Ack(Request::kSetProtocolFeatures, EncodeU64(kProtocolFeatureConfig)));
}

TEST_F(VhostUserBackendTest, KickProcessesQueueAndSignalsCall) {
  StartDevice();
  EXPECT_EQ(device_->activations, 1);
  EXPECT_EQ(device_->features_seen, kFeatureVersion1);  // bit 30 is the transport's
  device_->processed.clear();
  uint16_t head = rings_[0].AddChain(kRequest, 16);
  Kick(0);
  EXPECT_EQ(device_->processed, std::vector<size_t>{0});
  ASSERT_EQ(rings_[0].UsedIdx(), 1);
  EXPECT_EQ(rings_[0].UsedElem(0).id, head);
  EXPECT_EQ(rings_[0].UsedElem(0).length, 4u);
  EXPECT_EQ(rings_[0].Written(head, 4), (std::vector<uint8_t>{'d', 'o', 'n', 'e'}));
  EXPECT_EQ(Calls(0), 1u);
  EXPECT_EQ(Calls(1), 0u);  // ring 1's used index did not move
}

TEST_F(VhostUserBackendTest, ActivatesWhenEveryRingHasStarted) {
  Negotiate();
  ASSERT_TRUE(SetMemTable(ram_.fd()));
  ASSERT_TRUE(StartRing(0));
  EXPECT_EQ(device_->activations, 0);
  ASSERT_TRUE(StartRing(1));
  EXPECT_EQ(device_->activations, 1);
}

TEST_F(VhostUserBackendTest, DisabledRingIsServedOnceEnabled) {
  Negotiate();
  ASSERT_TRUE(SetMemTable(ram_.fd()));
  ASSERT_TRUE(StartRing(0));
  ASSERT_TRUE(StartRing(1));
  rings_[0].AddChain(kRequest, 16);
  Kick(0);
  EXPECT_TRUE(device_->processed.empty());  // protocol features: rings start disabled
  ASSERT_TRUE(Enable(0));
  EXPECT_EQ(device_->processed, std::vector<size_t>{0});
  EXPECT_EQ(rings_[0].UsedIdx(), 1);
}

TEST_F(VhostUserBackendTest, WithoutProtocolFeaturesRingsAreEnabled) {
  Negotiate(kFeatureVersion1);
  ASSERT_TRUE(SetMemTable(ram_.fd()));
  ASSERT_TRUE(StartRing(0));
  ASSERT_TRUE(StartRing(1));
  rings_[1].AddChain(kRequest, 16);
  Kick(1);
  EXPECT_EQ(rings_[1].UsedIdx(), 1);
}

TEST_F(VhostUserBackendTest, GetVringBaseStopsTheRingAndRestartKeepsTheDevice) {
  StartDevice();
  rings_[0].AddChain(kRequest, 16);
  Kick(0);
  auto base = front_->Send(Request::kGetVringBase, VringState_(0, 0));
  ASSERT_TRUE(base.has_value());
  ASSERT_EQ(base->payload.size(), sizeof(VringState));
  VringState state;
  std::memcpy(&state, base->payload.data(), sizeof(state));
  EXPECT_EQ(state.index, 0u);
  EXPECT_EQ(state.num, 1u);
  // Stopped: a new chain waits.
  rings_[0].AddChain(kRequest, 16);
  device_->processed.clear();
  Kick(0);
  EXPECT_TRUE(device_->processed.empty());
  // Restarted at that base: the waiting chain is served, the device kept.
  ASSERT_TRUE(StartRing(0, 1));
  EXPECT_EQ(rings_[0].UsedIdx(), 2);
  EXPECT_EQ(device_->resets, 0);
  EXPECT_EQ(device_->activations, 1);
}

TEST_F(VhostUserBackendTest, NewMemTableRestartsRingsWithoutResettingTheDevice) {
  StartDevice();
  UniqueFd again(::dup(ram_.fd()));
  ASSERT_TRUE(SetMemTable(again.get()));
  rings_[0].AddChain(kRequest, 16);
  Kick(0);
  EXPECT_EQ(rings_[0].UsedIdx(), 1);
  EXPECT_EQ(device_->resets, 0);
}

TEST_F(VhostUserBackendTest, ConfigSpace) {
  Negotiate();
  uint8_t eight[8] = {};
  ConfigSpace get{4, 0, std::vector<uint8_t>(eight, eight + 8)};
  auto reply = front_->Send(Request::kGetConfig, EncodeConfig(get));
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(reply->payload.size(), kConfigHeaderBytes + 8);
  for (size_t i = 0; i < 8; ++i) EXPECT_EQ(reply->payload[kConfigHeaderBytes + i], 0xa4 + i);
  // Past 256 bytes: an empty answer, which QEMU takes as a failure.
  ConfigSpace far{250, 0, std::vector<uint8_t>(8)};
  reply = front_->Send(Request::kGetConfig, EncodeConfig(far));
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->payload.size(), kConfigHeaderBytes);
  ConfigSpace set{2, 0, {7, 8}};
  EXPECT_TRUE(front_->Ack(Request::kSetConfig, EncodeConfig(set)));
  EXPECT_EQ(device_->written_config, (std::vector<uint8_t>{7, 8}));
  EXPECT_EQ(device_->written_offset, 2u);
  EXPECT_FALSE(front_->Ack(Request::kSetConfig, EncodeConfig(far)));
}

TEST_F(VhostUserBackendTest, BadMemoryTablesAreRefused) {
  Negotiate();
  EXPECT_FALSE(SetMemTable(ram_.fd(), user_base_, 0));                // empty
  EXPECT_FALSE(SetMemTable(ram_.fd(), user_base_, kRamBytes * 2));    // past the file
  EXPECT_FALSE(SetMemTable(ram_.fd(), ~0ull - 10));                   // wraps
  EXPECT_FALSE(SetMemTable(ram_.fd(), user_base_, kRamBytes, 4096));  // offset past file
  EXPECT_FALSE(SetMemTable(fds_[0].kick()));                          // not a memory file
  MemoryRegion overlapping[2] = {{0, kRamBytes / 2, user_base_, 0},
                                 {0x1000, kRamBytes / 2, user_base_ + kRamBytes, 0}};
  EXPECT_FALSE(
      front_->Ack(Request::kSetMemTable, EncodeMemoryTable(overlapping), {ram_.fd(), ram_.fd()}));
  MemoryRegion same_va[2] = {{0, 0x1000, user_base_, 0}, {0x10000, 0x1000, user_base_, 0}};
  EXPECT_FALSE(
      front_->Ack(Request::kSetMemTable, EncodeMemoryTable(same_va), {ram_.fd(), ram_.fd()}));
  // Two proper regions, the second at a non-page-aligned file offset.
  MemoryRegion two[2] = {{0, 0x10000, user_base_, 0},
                         {0x100000, 0x8000, user_base_ + 0x100000, 0x10010}};
  EXPECT_TRUE(front_->Ack(Request::kSetMemTable, EncodeMemoryTable(two), {ram_.fd(), ram_.fd()}));
  EXPECT_FALSE(front_->Closed());
}

TEST_F(VhostUserBackendTest, BadRingRequestsAreRefused) {
  Negotiate();
  // Before any memory table, addresses cannot be translated.
  EXPECT_FALSE(front_->Ack(Request::kSetVringAddr, EncodeVringAddress(Address(0))));
  ASSERT_TRUE(SetMemTable(ram_.fd()));
  VringAddress outside = Address(0);
  outside.used = user_base_ + kRamBytes;  // just past the region
  EXPECT_FALSE(front_->Ack(Request::kSetVringAddr, EncodeVringAddress(outside)));
  VringAddress below = Address(0);
  below.descriptor = user_base_ - 16;
  EXPECT_FALSE(front_->Ack(Request::kSetVringAddr, EncodeVringAddress(below)));
  EXPECT_FALSE(front_->Ack(Request::kSetVringNum, VringState_(2, kRingSize)));  // no ring 2
  EXPECT_FALSE(front_->Ack(Request::kSetVringNum, VringState_(0, 6)));          // not a power of 2
  EXPECT_FALSE(front_->Ack(Request::kSetVringNum, VringState_(1, 65536)));      // over 32768
  // The front end picks the size, not the device (QEMU's virtio-mmio: 1024).
  EXPECT_TRUE(front_->Ack(Request::kSetVringNum, VringState_(1, 1024)));
  EXPECT_FALSE(front_->Ack(Request::kSetVringBase, VringState_(0, 0x10000)));
  EXPECT_FALSE(front_->Ack(Request::kSetVringEnable, VringState_(0, 2)));
  EXPECT_FALSE(front_->Ack(Request::kSetVringCall, EncodeU64(7), {fds_[0].call()}));
  // Polling mode (no kick fd) is not supported.
  EXPECT_FALSE(front_->Ack(Request::kSetVringKick, EncodeU64(kVringNoFd)));
  // A kick before the ring is set up does not start it.
  EXPECT_FALSE(front_->Ack(Request::kSetVringKick, EncodeU64(1), {fds_[1].kick()}));
  // A ring too small for its rings' memory: the used ring runs past RAM.
  ASSERT_TRUE(front_->Ack(Request::kSetVringNum, VringState_(0, kRingSize)));
  VringAddress edge = Address(0);
  edge.used = user_base_ + kRamBytes - 8;
  ASSERT_TRUE(front_->Ack(Request::kSetVringAddr, EncodeVringAddress(edge)));
  EXPECT_FALSE(front_->Ack(Request::kSetVringKick, EncodeU64(0), {fds_[0].kick()}));
  EXPECT_FALSE(front_->Closed());
  EXPECT_EQ(device_->activations, 0);
}

TEST_F(VhostUserBackendTest, UnknownRequests) {
  Negotiate();
  EXPECT_FALSE(front_->Ack(static_cast<Request>(99)));
  EXPECT_FALSE(front_->Send(99, EncodeU64(1)).has_value());  // ignored
  EXPECT_FALSE(front_->Closed());
  // One that expects an answer we cannot give: the connection is closed.
  front_->Send(Request::kGetStatus);
  EXPECT_TRUE(front_->Closed());
  EXPECT_FALSE(backend_->serving());
}

TEST_F(VhostUserBackendTest, MalformedMessagesCloseTheConnection) {
  auto expect_closed = [&](auto&& send) {
    Connect();
    send();
    front_->Pump();
    EXPECT_TRUE(front_->Closed());
    EXPECT_FALSE(backend_->serving());
  };
  backend_->Disconnect();
  // A short header, then the front end goes away.
  expect_closed([&] {
    uint8_t partial[6] = {1};
    ASSERT_EQ(::send(front_->fd(), partial, sizeof(partial), 0), 6);
    ::shutdown(front_->fd(), SHUT_WR);
  });
  // A size larger than the request's payload type.
  expect_closed([&] { front_->Send(Request::kSetFeatures, std::vector<uint8_t>(16)); });
  // A size larger than any payload, on an unknown request.
  expect_closed([&] { front_->Send(1234, std::vector<uint8_t>(kMaxUnknownPayloadBytes + 1)); });
  // Wrong version, and a reply flag on a request.
  expect_closed([&] { front_->Send(Request::kGetFeatures, {}, {}, 2); });
  expect_closed([&] { front_->Send(Request::kGetFeatures, {}, {}, kFlagVersion | kFlagReply); });
  // fds on a request that takes none.
  expect_closed([&] { front_->Send(Request::kSetOwner, {}, {fds_[0].kick()}); });
  // A vring fd flag that disagrees with the fds.
  expect_closed([&] { front_->Send(Request::kSetVringCall, EncodeU64(0)); });
  // A memory table whose count disagrees with its size, or with its fds.
  expect_closed([&] {
    auto table = EncodeMemoryTable(std::vector<MemoryRegion>(2));
    table.resize(table.size() - 32);
    front_->Send(Request::kSetMemTable, table, {ram_.fd()});
  });
  expect_closed([&] {
    MemoryRegion region{0, kRamBytes, user_base_, 0};
    front_->Send(Request::kSetMemTable, EncodeMemoryTable({&region, 1}));
  });
  // More fds than any message carries.
  expect_closed([&] {
    int fds[12];
    for (int& fd : fds) fd = ram_.fd();
    Header header{static_cast<uint32_t>(Request::kSetOwner), kFlagVersion, 0};
    alignas(cmsghdr) uint8_t control[CMSG_SPACE(sizeof(fds))] = {};
    iovec iov{&header, sizeof(header)};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(fds));
    std::memcpy(CMSG_DATA(c), fds, sizeof(fds));
    ASSERT_EQ(::sendmsg(front_->fd(), &msg, 0), static_cast<ssize_t>(sizeof(header)));
  });
}

TEST_F(VhostUserBackendTest, ResetOwnerStartsClean) {
  StartDevice();
  EXPECT_TRUE(front_->Ack(Request::kResetOwner));
  EXPECT_EQ(device_->resets, 1);
  EXPECT_FALSE(backend_->activated());
  rings_[0].AddChain(kRequest, 16);
  device_->processed.clear();
  Kick(0);
  EXPECT_TRUE(device_->processed.empty());
  // Everything has to be set up again, from the memory table on.
  EXPECT_FALSE(front_->Ack(Request::kSetVringAddr, EncodeVringAddress(Address(0))));
  StartDevice();
  EXPECT_EQ(device_->activations, 2);
  EXPECT_EQ(rings_[0].UsedIdx(), 1);
  EXPECT_TRUE(front_->Ack(Request::kResetDevice));
  EXPECT_EQ(device_->resets, 2);
}

TEST_F(VhostUserBackendTest, DisconnectResetsAndTheServerTakesTheNextFrontEnd) {
  backend_->Disconnect();
  vk::virtio::fs::testing::TempDir dir;
  std::string path = dir / "vhost.sock";
  auto server = VhostUserServer::Listen(path, backend_.get(), loop_.get());
  ASSERT_TRUE(server.ok()) << server.error().message();
  auto first = ConnectUnix(path);
  ASSERT_TRUE(first.ok());
  front_->Pump();  // accept
  Attach(std::move(*first));
  StartDevice();
  // A second front end waits while the first is served.
  auto second = ConnectUnix(path);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ((*server)->connections(), 1u);
  front_.reset();  // the VMM goes away
  (void)loop_->RunOnce(1000);
  EXPECT_EQ(device_->resets, 1);
  EXPECT_FALSE(backend_->activated());
  (void)loop_->RunOnce(1000);  // the waiting one is accepted
  EXPECT_EQ((*server)->connections(), 2u);
  Attach(std::move(*second));
  StartDevice();
  EXPECT_EQ(device_->activations, 2);
  rings_[1].AddChain(kRequest, 16);
  Kick(1);
  EXPECT_EQ(rings_[1].UsedIdx(), 1);
}

// The first real user: our virtio-fs device behind the back end answers a
// FUSE_INIT sent through its request queue.
TEST_F(VhostUserBackendTest, FsDeviceAnswersFuseInit) {
  vk::virtio::fs::testing::TempDir dir;
  auto fs_device = CreateFsDevice({.shared_dir = dir.path(), .tag = "share"});
  ASSERT_TRUE(fs_device.ok()) << fs_device.error().message();
  backend_->Disconnect();
  front_.reset();
  backend_ = std::make_unique<VhostUserBackend>(std::move(*fs_device), loop_.get());
  Connect();
  Negotiate();
  ASSERT_TRUE(SetMemTable(ram_.fd()));
  for (uint32_t i = 0; i < 2; ++i) ASSERT_TRUE(StartRing(i));
  for (uint32_t i = 0; i < 2; ++i) ASSERT_TRUE(Enable(i));
  ASSERT_TRUE(backend_->activated());
  fuse_init_in in{};
  in.major = FUSE_KERNEL_VERSION;
  in.minor = FUSE_KERNEL_MINOR_VERSION;
  in.max_readahead = 128 << 10;
  auto request = vk::virtio::fs::testing::Req(FUSE_INIT, 0).Arg(in).Build(42);
  uint16_t head = rings_[1].AddChain(request, 0x800);
  Kick(1);
  ASSERT_EQ(rings_[1].UsedIdx(), 1);
  EXPECT_EQ(rings_[1].UsedElem(0).id, head);
  auto reply = rings_[1].Written(head, sizeof(fuse_out_header) + sizeof(fuse_init_out));
  fuse_out_header out;
  std::memcpy(&out, reply.data(), sizeof(out));
  EXPECT_EQ(out.error, 0);
  EXPECT_EQ(out.unique, 42u);
  fuse_init_out init;
  std::memcpy(&init, reply.data() + sizeof(out), sizeof(init));
  EXPECT_EQ(init.major, static_cast<uint32_t>(FUSE_KERNEL_VERSION));
  EXPECT_EQ(Calls(1), 1u);
  // The tag is in the config space (virtio 1.2 §5.11.4).
  ConfigSpace get{0, 0, std::vector<uint8_t>(5)};
  auto config = front_->Send(Request::kGetConfig, EncodeConfig(get));
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(std::string(config->payload.begin() + kConfigHeaderBytes, config->payload.end()),
            "share");
}

// QEMU's vhost-user-vsock-device keeps the event queue and hands over rx
// and tx only: the vsock device activates with those two (making its host
// sockets), reports its CID through GET_CONFIG, and a third ring does not
// exist here.
TEST_F(VhostUserBackendTest, VsockDeviceActivatesWithRxAndTxOnly) {
  vk::virtio::fs::testing::TempDir dir;
  VsockConfig config;
  config.uds_path = dir.path() + "/vsock.sock";
  config.port_sockets = {{dir.path() + "/exec.sock", 4444}};
  auto vsock = CreateVsockDevice(config);
  ASSERT_TRUE(vsock.ok()) << vsock.error().message();
  EXPECT_EQ((*vsock)->queue_max_sizes().size(), 3u);
  backend_->Disconnect();
  front_.reset();
  backend_ = std::make_unique<VhostUserBackend>(std::move(*vsock), loop_.get());
  Connect();
  StartDevice();  // rings 0 and 1 only
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() + "/exec.sock").c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_FALSE(front_->Ack(Request::kSetVringNum, VringState_(2, kRingSize)));
  ConfigSpace get{0, 0, std::vector<uint8_t>(8)};
  auto reply = front_->Send(Request::kGetConfig, EncodeConfig(get));
  ASSERT_TRUE(reply.has_value());
  uint64_t cid = 0;
  std::memcpy(&cid, reply->payload.data() + kConfigHeaderBytes, sizeof(cid));
  EXPECT_EQ(cid, 3u);
}

}  // namespace
}  // namespace vk::virtio::vhost_user
