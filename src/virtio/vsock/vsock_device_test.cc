#include "virtio/vsock/vsock_device.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <cstring>
#include <filesystem>

#include "virtio/testing/fake_virtqueue.h"
#include "virtio/vsock/vsock_packet.h"

namespace vk::virtio {
namespace {

using testing::FakeDeviceContext;
using testing::FakeGuest;
using testing::FakeVirtqueue;
using vsock::PacketHeader;

std::vector<uint8_t> Packet(uint16_t op, uint32_t src_port, uint32_t dst_port,
                            const std::string& payload = "", uint64_t src_cid = 3) {
  PacketHeader h{};
  h.src_cid = src_cid;
  h.dst_cid = 2;
  h.src_port = src_port;
  h.dst_port = dst_port;
  h.len = static_cast<uint32_t>(payload.size());
  h.type = vsock::kTypeStream;
  h.op = op;
  h.buf_alloc = 64 * 1024;
  std::vector<uint8_t> bytes(sizeof(h));
  std::memcpy(bytes.data(), &h, sizeof(h));
  bytes.insert(bytes.end(), payload.begin(), payload.end());
  return bytes;
}

UniqueFd Listen(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strcpy(address.sun_path, path.c_str());
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  EXPECT_EQ(::listen(fd.get(), 4), 0);
  return fd;
}

class VsockDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/vk-vsock-test.XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    loop_ = std::move(EventLoop::Create().value());
    auto device = CreateVsockDevice({3, dir_ + "/v.sock"});
    ASSERT_TRUE(device.ok());
    device_ = std::move(*device);
    rx_ = std::make_unique<FakeVirtqueue>(guest_, queues_[0]);
    tx_ = std::make_unique<FakeVirtqueue>(guest_, queues_[1]);
    context_ = std::make_unique<FakeDeviceContext>(guest_, std::span(queues_), loop_.get());
    ASSERT_TRUE(device_->Activate(context_->context).ok());
  }
  void TearDown() override {
    device_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Send(const std::vector<uint8_t>& packet) {
    tx_->AddChain({packet}, {});
    std::lock_guard lock(context_->lock);
    device_->ProcessQueue(1);
  }
  void AddRxBuffers(int count) {
    for (int i = 0; i < count; ++i) heads_.push_back(rx_->AddChain({}, {4096 + 44}));
    std::lock_guard lock(context_->lock);
    device_->ProcessQueue(0);
  }
  // The next packet the device put in an rx buffer.
  std::optional<std::pair<PacketHeader, std::string>> Received() {
    auto used = rx_->NextUsed();
    if (!used) return std::nullopt;
    std::vector<uint8_t> bytes = rx_->Written(static_cast<uint16_t>(used->id));
    PacketHeader h;
    std::memcpy(&h, bytes.data(), sizeof(h));
    return std::make_pair(
        h, std::string(bytes.begin() + sizeof(h), bytes.begin() + sizeof(h) + h.len));
  }
  void Pump() {
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(loop_->RunOnce(20).ok());
  }

  std::string dir_;
  FakeGuest guest_;
  std::vector<Queue> queues_{Queue(256), Queue(256), Queue(64)};
  std::unique_ptr<FakeVirtqueue> rx_, tx_;
  std::unique_ptr<FakeDeviceContext> context_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<VirtioDevice> device_;
  std::vector<uint16_t> heads_;
};

TEST_F(VsockDeviceTest, GuestConnectsToHostPortAndDataFlowsBothWays) {
  UniqueFd listener = Listen(dir_ + "/v.sock_1024");
  AddRxBuffers(8);
  Send(Packet(vsock::kOpRequest, 5000, 1024));
  auto response = Received();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->first.op, vsock::kOpResponse);
  EXPECT_EQ(response->first.dst_port, 5000u);
  UniqueFd host(::accept(listener.get(), nullptr, nullptr));
  ASSERT_TRUE(host.valid());

  Send(Packet(vsock::kOpRw, 5000, 1024, "ping"));
  char buffer[16] = {};
  ASSERT_EQ(::recv(host.get(), buffer, sizeof(buffer), 0), 4);
  EXPECT_STREQ(buffer, "ping");

  ASSERT_EQ(::send(host.get(), "pong", 4, 0), 4);
  Pump();
  std::optional<std::pair<PacketHeader, std::string>> data;
  while ((data = Received()) && data->first.op != vsock::kOpRw) {
  }
  ASSERT_TRUE(data.has_value());
  EXPECT_EQ(data->second, "pong");

  host.Reset();  // host closes: the guest hears SHUTDOWN
  Pump();
  std::optional<std::pair<PacketHeader, std::string>> shutdown;
  while ((shutdown = Received()) && shutdown->first.op != vsock::kOpShutdown) {
  }
  ASSERT_TRUE(shutdown.has_value());
  EXPECT_EQ(shutdown->first.flags, vsock::kShutdownReceive | vsock::kShutdownSend);
}

// The host hung up and the guest has not answered the SHUTDOWN yet: the
// device thread must sleep until the guest does, not wake up again and again
// for the hang-up (it spun at 100% and starved a slow guest's vCPU).
TEST_F(VsockDeviceTest, HostHangUpDoesNotSpinWhileTheGuestIsSilent) {
  UniqueFd listener = Listen(dir_ + "/v.sock_1024");
  AddRxBuffers(8);
  Send(Packet(vsock::kOpRequest, 5000, 1024));
  UniqueFd host(::accept(listener.get(), nullptr, nullptr));
  ASSERT_TRUE(host.valid());
  host.Reset();
  Pump();  // reads the EOF, queues the SHUTDOWN; the guest never answers
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(loop_->RunOnce(100).ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(250))
      << "the event loop kept waking up for the hang-up";
}

// A guest closing its socket sends SHUTDOWN with both flags: the device
// closes the connection while handling the packet and must not touch it
// afterwards (a use-after-free found by vsock_packet_fuzzer; ASan shows it).
TEST_F(VsockDeviceTest, GuestShutdownOfBothDirectionsClosesCleanly) {
  UniqueFd listener = Listen(dir_ + "/v.sock_1024");
  AddRxBuffers(8);
  Send(Packet(vsock::kOpRequest, 5000, 1024));
  UniqueFd host(::accept(listener.get(), nullptr, nullptr));
  ASSERT_TRUE(host.valid());
  Send(Packet(vsock::kOpRw, 5000, 1024, "hello host"));
  std::vector<uint8_t> shutdown = Packet(vsock::kOpShutdown, 5000, 1024);
  PacketHeader h;
  std::memcpy(&h, shutdown.data(), sizeof(h));
  h.flags = vsock::kShutdownReceive | vsock::kShutdownSend;
  std::memcpy(shutdown.data(), &h, sizeof(h));
  Send(shutdown);
  char buffer[32] = {};
  EXPECT_EQ(::recv(host.get(), buffer, sizeof(buffer), 0), 10);
  EXPECT_EQ(::recv(host.get(), buffer, sizeof(buffer), 0), 0);  // closed
  Send(Packet(vsock::kOpRst, 5000, 1024));                      // nothing left to reset
}

TEST_F(VsockDeviceTest, ConnectToMissingHostSocketIsReset) {
  AddRxBuffers(2);
  Send(Packet(vsock::kOpRequest, 5000, 7777));
  auto reply = Received();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->first.op, vsock::kOpRst);
}

TEST_F(VsockDeviceTest, HostConnectsToGuestPortWithConnectLine) {
  AddRxBuffers(4);
  UniqueFd client(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strcpy(address.sun_path, (dir_ + "/v.sock").c_str());
  ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(::send(client.get(), "CONNECT 4444\n", 13, 0), 13);
  Pump();
  auto request = Received();
  ASSERT_TRUE(request.has_value());
  EXPECT_EQ(request->first.op, vsock::kOpRequest);
  EXPECT_EQ(request->first.dst_port, 4444u);
  uint32_t host_port = request->first.src_port;
  auto response = Packet(vsock::kOpResponse, 4444, host_port);
  Send(response);
  char buffer[32] = {};
  ASSERT_GT(::recv(client.get(), buffer, sizeof(buffer), 0), 0);
  EXPECT_EQ(std::string(buffer), "OK " + std::to_string(host_port) + "\n");
}

TEST_F(VsockDeviceTest, HostilePacketsAreResetNotFatal) {
  AddRxBuffers(8);
  Send(Packet(vsock::kOpRw, 1, 2, "x", /*src_cid=*/99));  // spoofed source CID
  Send(Packet(vsock::kOpRw, 1, 2, "data"));               // no such connection
  auto truncated = Packet(vsock::kOpRw, 1, 2, "abc");
  truncated.resize(50);  // len says 3, 3 present... shorten more
  truncated.resize(46);
  Send(truncated);
  Send(std::vector<uint8_t>(10, 0xff));  // shorter than a header
  int resets = 0;
  while (auto packet = Received()) resets += packet->first.op == vsock::kOpRst;
  EXPECT_GE(resets, 2);
}

TEST_F(VsockDeviceTest, HostDataWaitsForGuestCredit) {
  UniqueFd listener = Listen(dir_ + "/v.sock_1024");
  AddRxBuffers(64);
  auto request = Packet(vsock::kOpRequest, 5000, 1024);
  reinterpret_cast<PacketHeader*>(request.data())->buf_alloc = 4096;  // small guest window
  Send(request);
  UniqueFd host(::accept(listener.get(), nullptr, nullptr));
  std::string big(64 * 1024, 'z');
  ASSERT_EQ(::send(host.get(), big.data(), big.size(), MSG_DONTWAIT),
            static_cast<ssize_t>(big.size()));
  Pump();
  size_t delivered = 0;
  while (auto packet = Received()) {
    if (packet->first.op == vsock::kOpRw) delivered += packet->second.size();
  }
  EXPECT_EQ(delivered, 4096u);  // no more than the guest's buf_alloc
}

}  // namespace
}  // namespace vk::virtio
