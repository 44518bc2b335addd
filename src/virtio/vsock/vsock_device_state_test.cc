// virtio-vsock snapshots: no connection survives, and the restored device
// says so with a TRANSPORT_RESET event (virtio 1.2 §5.10.6.7).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>

#include "base/remove_tree.h"
#include "virtio/testing/fake_driver.h"
#include "virtio/vsock/vsock_device.h"
#include "virtio/vsock/vsock_event.h"
#include "virtio/vsock/vsock_packet.h"

namespace vk::virtio {
namespace {

using testing::FakeDriver;
using testing::FakeGuest;
using testing::FakeVirtqueue;

class VsockStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/vk-vsock-state.XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    driver_ = std::make_unique<FakeDriver>(guest_, NewVsock(), loop_.get());
    driver_->Start();
  }
  void TearDown() override {
    driver_.reset();
    (void)RemoveTreeWithin("/tmp", dir_);
  }
  std::unique_ptr<VirtioDevice> NewVsock() {
    auto device = CreateVsockDevice({3, dir_ + "/v.sock"});
    EXPECT_TRUE(device.ok());
    return std::move(*device);
  }
  uint16_t PostEvent() { return driver_->vq(vsock::kEventQueue).AddChain({}, {4}); }
  void SaveAndRestore() {
    auto state = driver_->Save();
    ASSERT_TRUE(state.ok()) << state.error().message();
    auto restored = driver_->Restore(NewVsock(), *state);
    ASSERT_TRUE(restored.ok()) << restored.error().message();
  }
  // Checks the next event is a TRANSPORT_RESET in the buffer at `head`.
  void ExpectTransportReset(uint16_t head) {
    auto used = driver_->vq(vsock::kEventQueue).NextUsed();
    ASSERT_TRUE(used.has_value());
    EXPECT_EQ(used->id, head);
    EXPECT_EQ(used->length, 4u);
    auto bytes = driver_->vq(vsock::kEventQueue).Written(head);
    uint32_t id;
    std::memcpy(&id, bytes.data(), 4);
    EXPECT_EQ(id, vsock::kEventTransportReset);
  }

  std::string dir_;
  FakeGuest guest_;
  std::unique_ptr<EventLoop> loop_ = std::move(EventLoop::Create().value());
  std::unique_ptr<FakeDriver> driver_;
};

TEST_F(VsockStateTest, TheGuestSeesATransportResetAfterRestore) {
  uint16_t head = PostEvent();
  PostEvent();
  driver_->Notify(vsock::kEventQueue);
  EXPECT_FALSE(driver_->vq(vsock::kEventQueue).NextUsed().has_value());  // nothing to say yet
  SaveAndRestore();
  ExpectTransportReset(head);
  EXPECT_GE(driver_->interrupt().count, 1);
  EXPECT_FALSE(driver_->vq(vsock::kEventQueue).NextUsed().has_value());  // exactly one
  // The restored device listens on the host socket again.
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/v.sock"));
}

TEST_F(VsockStateTest, TheResetWaitsForAnEventBuffer) {
  SaveAndRestore();
  EXPECT_FALSE(driver_->vq(vsock::kEventQueue).NextUsed().has_value());
  uint16_t head = PostEvent();
  driver_->Notify(vsock::kEventQueue);
  ExpectTransportReset(head);
}

// A packet of a connection from before the snapshot, sent before the guest
// handled the reset, gets no RST (which would read as the host closing it):
// the reset's ECONNRESET lets the agent resume its command. Once the guest
// has re-posted the event buffer, an unknown connection is reset as usual.
TEST_F(VsockStateTest, OldConnectionsGetNoRstUntilTheGuestHandledTheReset) {
  PostEvent();
  driver_->Notify(vsock::kEventQueue);
  SaveAndRestore();
  FakeVirtqueue& rx = driver_->vq(0);
  for (int i = 0; i < 4; ++i) rx.AddChain({}, {4096 + 44});
  driver_->Notify(0);
  auto send_rw = [&] {
    vsock::PacketHeader h{};
    h.src_cid = 3;
    h.dst_cid = vsock::kHostCid;
    h.src_port = 5000;
    h.dst_port = 1024;
    h.type = vsock::kTypeStream;
    h.op = vsock::kOpRw;
    std::vector<uint8_t> bytes(sizeof(h));
    std::memcpy(bytes.data(), &h, sizeof(h));
    driver_->vq(1).AddChain({bytes}, {});
    driver_->Notify(1);
  };
  send_rw();
  EXPECT_FALSE(rx.NextUsed().has_value()) << "an RST before the guest handled the reset";
  PostEvent();  // Linux re-posts the event buffer after handling the event
  driver_->Notify(vsock::kEventQueue);
  send_rw();
  auto used = rx.NextUsed();
  ASSERT_TRUE(used.has_value());
  auto bytes = rx.Written(static_cast<uint16_t>(used->id));
  vsock::PacketHeader reply;
  std::memcpy(&reply, bytes.data(), sizeof(reply));
  EXPECT_EQ(reply.op, vsock::kOpRst);
}

}  // namespace
}  // namespace vk::virtio
