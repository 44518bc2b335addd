// Switch: learning, flooding, aging, per-port MAC caps, counters, pinning
// and re-entrant sinks.
#include "net/switch.h"

#include <gtest/gtest.h>

#include "net/frame_test_util.h"

namespace vk::net {
namespace {

using testing::FakeClock;
using testing::Frame;
using testing::Mac;
using testing::RecordingSink;

class NetSwitch : public ::testing::Test {
 protected:
  NetSwitch() : lan_(SwitchOptions{std::chrono::seconds(300), 4}, clock_.clock()) {
    for (int i = 0; i < 3; ++i) ports_[i] = lan_.AddPort(&sinks_[i], "vm" + std::to_string(i));
  }
  void ClearSinks() {
    for (auto& sink : sinks_) sink.frames.clear();
  }

  FakeClock clock_;
  Switch lan_;
  RecordingSink sinks_[3];
  PortId ports_[3];
};

TEST_F(NetSwitch, FloodsUnknownUnicastButNotBackToSource) {
  lan_.Receive(ports_[0], Frame(Mac(2), Mac(1)));
  EXPECT_TRUE(sinks_[0].frames.empty());
  EXPECT_EQ(sinks_[1].frames.size(), 1u);
  EXPECT_EQ(sinks_[2].frames.size(), 1u);
}

TEST_F(NetSwitch, LearnsAndUnicasts) {
  lan_.Receive(ports_[1], Frame(MacAddress::Broadcast(), Mac(2)));
  ClearSinks();
  lan_.Receive(ports_[0], Frame(Mac(2), Mac(1)));
  EXPECT_TRUE(sinks_[0].frames.empty());
  EXPECT_EQ(sinks_[1].frames.size(), 1u);
  EXPECT_TRUE(sinks_[2].frames.empty());
  EXPECT_EQ(lan_.Lookup(Mac(2)), ports_[1]);
  EXPECT_EQ(lan_.Lookup(Mac(1)), ports_[0]);
}

TEST_F(NetSwitch, BroadcastAndMulticastFlood) {
  lan_.Receive(ports_[1], Frame(Mac(9), Mac(2)));
  ClearSinks();
  lan_.Receive(ports_[0], Frame(MacAddress::Broadcast(), Mac(1)));
  MacAddress multicast{{0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb}};
  lan_.Receive(ports_[0], Frame(multicast, Mac(1)));
  EXPECT_EQ(sinks_[1].frames.size(), 2u);
  EXPECT_EQ(sinks_[2].frames.size(), 2u);
  EXPECT_TRUE(sinks_[0].frames.empty());
}

TEST_F(NetSwitch, DestinationOnSourcePortIsFiltered) {
  lan_.Receive(ports_[0], Frame(MacAddress::Broadcast(), Mac(5)));
  ClearSinks();
  lan_.Receive(ports_[0], Frame(Mac(5), Mac(1)));
  for (auto& sink : sinks_) EXPECT_TRUE(sink.frames.empty());
}

TEST_F(NetSwitch, EntriesAgeOut) {
  lan_.Receive(ports_[1], Frame(MacAddress::Broadcast(), Mac(2)));
  clock_.Advance(std::chrono::seconds(299));
  EXPECT_EQ(lan_.Lookup(Mac(2)), ports_[1]);
  clock_.Advance(std::chrono::seconds(2));
  EXPECT_FALSE(lan_.Lookup(Mac(2)).has_value());
  ClearSinks();
  lan_.Receive(ports_[0], Frame(Mac(2), Mac(1)));
  EXPECT_EQ(sinks_[2].frames.size(), 1u);  // flooded again
}

// Finding: a port could take over another port's MAC (and its traffic).
TEST_F(NetSwitch, MacStaysWithItsOwnerPortWhileThatPortLives) {
  lan_.Receive(ports_[1], Frame(MacAddress::Broadcast(), Mac(2)));
  ClearSinks();
  lan_.Receive(ports_[2], Frame(MacAddress::Broadcast(), Mac(2)));
  EXPECT_EQ(lan_.Counters(ports_[2])->rx_dropped, 1u);
  EXPECT_TRUE(sinks_[0].frames.empty());
  EXPECT_EQ(lan_.Lookup(Mac(2)), ports_[1]);
  // Idle past aging: no longer unicast to, but still owned.
  clock_.Advance(std::chrono::seconds(301));
  lan_.Receive(ports_[2], Frame(MacAddress::Broadcast(), Mac(2)));
  EXPECT_EQ(lan_.Counters(ports_[2])->rx_dropped, 2u);
  EXPECT_FALSE(lan_.Lookup(Mac(2)).has_value());
  EXPECT_EQ(lan_.Owner(Mac(2)), ports_[1]);
  // The owner disconnects (the VM restarts behind a new port): free again.
  lan_.RemovePort(ports_[1]);
  lan_.Receive(ports_[2], Frame(MacAddress::Broadcast(), Mac(2)));
  EXPECT_EQ(lan_.Owner(Mac(2)), ports_[2]);
  EXPECT_EQ(lan_.LearnedCount(ports_[2]), 1u);
}

class RejectingGuard : public IngressGuard {
 public:
  bool Admit(PortId from, const EthernetFrame&) override { return from != rejected; }
  PortId rejected = 0;
};

TEST_F(NetSwitch, IngressGuardVetsEveryFrame) {
  RejectingGuard guard;
  guard.rejected = ports_[0];
  lan_.SetIngressGuard(&guard);
  lan_.Receive(ports_[0], Frame(MacAddress::Broadcast(), Mac(1)));
  lan_.Receive(ports_[1], Frame(MacAddress::Broadcast(), Mac(2)));
  EXPECT_EQ(lan_.Counters(ports_[0])->rx_dropped, 1u);
  EXPECT_EQ(sinks_[2].frames.size(), 1u);  // only port 1's frame
  lan_.SetIngressGuard(nullptr);
}

TEST_F(NetSwitch, CapsLearnedMacsPerPort) {
  for (uint8_t i = 10; i < 20; ++i) lan_.Receive(ports_[0], Frame(MacAddress::Broadcast(), Mac(i)));
  EXPECT_EQ(lan_.LearnedCount(ports_[0]), 4u);
  auto counters = lan_.Counters(ports_[0]);
  EXPECT_EQ(counters->rx_frames, 4u);
  EXPECT_EQ(counters->rx_dropped, 6u);
  EXPECT_EQ(sinks_[1].frames.size(), 4u);
  // Known MACs keep working; a full port may replace its own idle MACs.
  lan_.Receive(ports_[0], Frame(MacAddress::Broadcast(), Mac(10)));
  EXPECT_EQ(lan_.Counters(ports_[0])->rx_frames, 5u);
  clock_.Advance(std::chrono::seconds(301));
  lan_.Receive(ports_[0], Frame(MacAddress::Broadcast(), Mac(30)));
  EXPECT_EQ(lan_.Counters(ports_[0])->rx_frames, 6u);
  EXPECT_EQ(lan_.LearnedCount(ports_[0]), 1u);
}

TEST_F(NetSwitch, CountsBytesAndSinkDrops) {
  auto frame = Frame(MacAddress::Broadcast(), Mac(1), kEtherTypeIpv4, 100);
  sinks_[2].accept = false;
  lan_.Receive(ports_[0], frame);
  auto rx = *lan_.Counters(ports_[0]);
  EXPECT_EQ(rx.rx_frames, 1u);
  EXPECT_EQ(rx.rx_bytes, frame.size());
  auto tx = *lan_.Counters(ports_[1]);
  EXPECT_EQ(tx.tx_frames, 1u);
  EXPECT_EQ(tx.tx_bytes, frame.size());
  EXPECT_EQ(lan_.Counters(ports_[2])->tx_dropped, 1u);
  EXPECT_EQ(lan_.Counters(ports_[2])->tx_frames, 0u);
}

TEST_F(NetSwitch, DropsMalformedAndMulticastSource) {
  std::vector<uint8_t> frame = Frame(MacAddress::Broadcast(), Mac(1));
  for (size_t n = 0; n < kEthernetHeaderSize; ++n) lan_.Receive(ports_[0], Bytes(frame).first(n));
  lan_.Receive(ports_[0], Frame(Mac(2), MacAddress::Broadcast()));
  std::vector<uint8_t> huge(kMaxFrame + 1, 0);
  lan_.Receive(ports_[0], huge);
  EXPECT_EQ(lan_.Counters(ports_[0])->rx_dropped, kEthernetHeaderSize + 2);
  EXPECT_TRUE(sinks_[1].frames.empty());
}

TEST_F(NetSwitch, PinnedMacCannotBeStolen) {
  ASSERT_TRUE(lan_.PinMac(ports_[2], Mac(0xdd)));
  lan_.Receive(ports_[0], Frame(MacAddress::Broadcast(), Mac(0xdd)));  // spoof
  EXPECT_EQ(lan_.Counters(ports_[0])->rx_dropped, 1u);
  clock_.Advance(std::chrono::hours(24));
  EXPECT_EQ(lan_.Lookup(Mac(0xdd)), ports_[2]);
  lan_.Receive(ports_[1], Frame(Mac(0xdd), Mac(1)));
  EXPECT_EQ(sinks_[2].frames.size(), 1u);
  EXPECT_TRUE(sinks_[0].frames.empty());
}

TEST_F(NetSwitch, RemovePortForgetsItsMacs) {
  lan_.Receive(ports_[1], Frame(MacAddress::Broadcast(), Mac(2)));
  lan_.RemovePort(ports_[1]);
  EXPECT_FALSE(lan_.Lookup(Mac(2)).has_value());
  EXPECT_FALSE(lan_.Counters(ports_[1]).has_value());
  lan_.Receive(ports_[0], Frame(Mac(2), Mac(1)));
  EXPECT_TRUE(sinks_[1].frames.empty());
  EXPECT_EQ(sinks_[2].frames.size(), 2u);  // the broadcast, then the flood
  EXPECT_EQ(lan_.Ports().size(), 2u);
  lan_.Receive(ports_[1], Frame(Mac(1), Mac(2)));  // unknown port: ignored
}

// A sink that removes another port while the switch floods to it.
class RemovingSink : public FrameSink {
 public:
  bool Deliver(Bytes) override {
    if (lan != nullptr) lan->RemovePort(victim);
    lan = nullptr;
    return true;
  }
  Switch* lan = nullptr;
  PortId victim = 0;
};

TEST_F(NetSwitch, SinkMayRemovePortsDuringFlood) {
  RemovingSink remover;
  remover.lan = &lan_;
  remover.victim = ports_[2];
  PortId extra = lan_.AddPort(&remover, "remover");
  (void)extra;
  // Port ids are flooded in order; the remover (last) runs after vm2, so add
  // a fresh victim after it.
  RecordingSink late;
  remover.victim = lan_.AddPort(&late, "late");
  lan_.Receive(ports_[0], Frame(MacAddress::Broadcast(), Mac(1)));
  EXPECT_TRUE(late.frames.empty());
  EXPECT_EQ(sinks_[2].frames.size(), 1u);
}

}  // namespace
}  // namespace vk::net
