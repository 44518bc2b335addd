#include "net/conntrack.h"

#include <gtest/gtest.h>

namespace vk::net {
namespace {

constexpr uint32_t kGuest = 0x0A00020F;
constexpr uint32_t kServer = 0x5DB8D822;
constexpr uint64_t kSecond = 1000;
constexpr Direction kOut = Direction::kEgress;
constexpr Direction kIn = Direction::kIngress;

FlowKey Out(IpProto proto, uint16_t sport = 40000, uint8_t flags = 0) {
  return {proto, kGuest, sport, kServer, 443, flags};
}

FlowKey Reply(const FlowKey& out, uint8_t flags = 0) {
  FlowKey key = out.Reversed();
  key.tcp_flags = flags;
  return key;
}

class NetConntrack : public ::testing::Test {
 protected:
  // SYN at 0, SYN-ACK at 1 ms, ACK at 2 ms: established with deadline 2 ms + 2 h.
  FlowKey Handshake() {
    FlowKey syn = Out(IpProto::kTcp, 40000, FlowKey::kSyn);
    EXPECT_TRUE(table_.Open(syn, kOut, 0));
    EXPECT_EQ(table_.Track(Reply(syn, FlowKey::kSyn | FlowKey::kAck), kIn, 1), ConnMatch::kReply);
    EXPECT_EQ(table_.Find(syn, kOut, 1)->state, ConnState::kOpening);
    FlowKey ack = Out(IpProto::kTcp, 40000, FlowKey::kAck);
    EXPECT_EQ(table_.Track(ack, kOut, 2), ConnMatch::kOriginal);
    EXPECT_EQ(table_.Find(syn, kOut, 2)->state, ConnState::kEstablished);
    return ack;
  }

  Conntrack table_;
};

TEST_F(NetConntrack, TcpOpeningExpiresAfterTwoMinutes) {
  FlowKey syn = Out(IpProto::kTcp, 40000, FlowKey::kSyn);
  ASSERT_TRUE(table_.Open(syn, kOut, 0));
  EXPECT_EQ(table_.Find(syn, kOut, 0)->deadline_ms, 120 * kSecond);
  EXPECT_TRUE(table_.Find(syn, kOut, 120 * kSecond - 1).has_value());
  EXPECT_FALSE(table_.Find(syn, kOut, 120 * kSecond).has_value());
  EXPECT_EQ(table_.Track(Reply(syn, FlowKey::kSyn | FlowKey::kAck), kIn, 120 * kSecond),
            ConnMatch::kNone);
  EXPECT_EQ(table_.size(), 0u);
}

TEST_F(NetConntrack, TcpEstablishedLastsTwoHoursIdle) {
  FlowKey ack = Handshake();
  uint64_t deadline = 2 + 2 * 3600 * kSecond;
  EXPECT_EQ(table_.Find(ack, kOut, 2)->deadline_ms, deadline);
  EXPECT_EQ(table_.Track(Reply(ack, FlowKey::kAck), kIn, deadline - 1), ConnMatch::kReply);
  // That packet restarted the timer.
  EXPECT_EQ(table_.Find(ack, kOut, deadline)->deadline_ms, deadline - 1 + 2 * 3600 * kSecond);
  EXPECT_EQ(table_.Track(ack, kOut, deadline - 1 + 2 * 3600 * kSecond), ConnMatch::kNone);
}

TEST_F(NetConntrack, FinShortensToTenSeconds) {
  FlowKey ack = Handshake();
  EXPECT_EQ(table_.Track(Out(IpProto::kTcp, 40000, FlowKey::kFin | FlowKey::kAck), kOut, 100),
            ConnMatch::kOriginal);
  ConnInfo info = *table_.Find(ack, kOut, 100);
  EXPECT_EQ(info.state, ConnState::kClosing);
  EXPECT_EQ(info.deadline_ms, 100 + 10 * kSecond);
  // The peer's FIN still passes and restarts the short timer, not the long one.
  EXPECT_EQ(table_.Track(Reply(ack, FlowKey::kFin | FlowKey::kAck), kIn, 5000), ConnMatch::kReply);
  EXPECT_EQ(table_.Find(ack, kOut, 5000)->deadline_ms, 5000 + 10 * kSecond);
  EXPECT_EQ(table_.Track(ack, kOut, 5000 + 10 * kSecond - 1), ConnMatch::kOriginal);
  EXPECT_EQ(table_.Track(ack, kOut, 5000 + 10 * kSecond - 1 + 10 * kSecond), ConnMatch::kNone);
}

TEST_F(NetConntrack, RstShortensToTenSeconds) {
  FlowKey ack = Handshake();
  EXPECT_EQ(table_.Track(Reply(ack, FlowKey::kRst), kIn, 50), ConnMatch::kReply);
  EXPECT_EQ(table_.Find(ack, kOut, 50)->deadline_ms, 50 + 10 * kSecond);
  EXPECT_FALSE(table_.Find(ack, kOut, 50 + 10 * kSecond).has_value());
}

TEST_F(NetConntrack, SynOnClosingEntryReopens) {
  FlowKey ack = Handshake();
  table_.Track(Out(IpProto::kTcp, 40000, FlowKey::kRst), kOut, 10);
  EXPECT_EQ(table_.Track(Out(IpProto::kTcp, 40000, FlowKey::kSyn), kOut, 20), ConnMatch::kOriginal);
  ConnInfo info = *table_.Find(ack, kOut, 20);
  EXPECT_EQ(info.state, ConnState::kOpening);
  EXPECT_FALSE(info.seen_reply);
  EXPECT_EQ(info.deadline_ms, 20 + 120 * kSecond);
}

TEST_F(NetConntrack, PureSynIsNeverAReply) {
  FlowKey syn = Out(IpProto::kTcp, 40000, FlowKey::kSyn);
  ASSERT_TRUE(table_.Open(syn, kOut, 0));
  EXPECT_EQ(table_.Track(Reply(syn, FlowKey::kSyn), kIn, 1), ConnMatch::kNone);
  EXPECT_FALSE(table_.Find(syn, kOut, 1)->seen_reply);
}

TEST_F(NetConntrack, LoneFinOrRstOpensNothing) {
  EXPECT_FALSE(table_.Open(Out(IpProto::kTcp, 1, FlowKey::kFin | FlowKey::kAck), kOut, 0));
  EXPECT_FALSE(table_.Open(Out(IpProto::kTcp, 1, FlowKey::kRst), kOut, 0));
  EXPECT_EQ(table_.size(), 0u);
}

TEST_F(NetConntrack, UdpThirtySecondsThenThreeMinutesOnceAnswered) {
  FlowKey query = Out(IpProto::kUdp);
  ASSERT_TRUE(table_.Open(query, kOut, 0));
  EXPECT_EQ(table_.Find(query, kOut, 0)->deadline_ms, 30 * kSecond);
  EXPECT_EQ(table_.Track(query, kOut, 30 * kSecond - 1), ConnMatch::kOriginal);
  EXPECT_EQ(table_.Find(query, kOut, 0)->deadline_ms, 60 * kSecond - 1);
  EXPECT_EQ(table_.Track(Reply(query), kIn, 60 * kSecond - 1), ConnMatch::kNone);

  ASSERT_TRUE(table_.Open(query, kOut, 100 * kSecond));
  EXPECT_EQ(table_.Track(Reply(query), kIn, 101 * kSecond), ConnMatch::kReply);
  EXPECT_EQ(table_.Find(query, kOut, 101 * kSecond)->deadline_ms, 281 * kSecond);
  EXPECT_EQ(table_.Track(query, kOut, 281 * kSecond - 1), ConnMatch::kOriginal);
  EXPECT_EQ(table_.Track(query, kOut, 461 * kSecond - 1), ConnMatch::kNone);
}

TEST_F(NetConntrack, IcmpEchoByIdentifierThirtySeconds) {
  FlowKey echo{IpProto::kIcmp, kGuest, 77, kServer, 77, 0};
  ASSERT_TRUE(table_.Open(echo, kOut, 0));
  EXPECT_EQ(table_.Track(echo.Reversed(), kIn, 30 * kSecond - 1), ConnMatch::kReply);
  FlowKey other_id{IpProto::kIcmp, kServer, 78, kGuest, 78, 0};
  EXPECT_EQ(table_.Track(other_id, kIn, 30 * kSecond), ConnMatch::kNone);
  EXPECT_EQ(table_.Track(echo.Reversed(), kIn, 60 * kSecond - 1), ConnMatch::kNone);
}

TEST_F(NetConntrack, DirectionIsPartOfTheKey) {
  FlowKey query = Out(IpProto::kUdp);
  ASSERT_TRUE(table_.Open(query, kOut, 0));
  // The same tuple arriving from outside is neither original nor reply.
  EXPECT_EQ(table_.Track(query, kIn, 1), ConnMatch::kNone);
  EXPECT_EQ(table_.Track(Reply(query), kOut, 1), ConnMatch::kNone);
}

TEST_F(NetConntrack, ExpireReclaimsDeadEntries) {
  ASSERT_TRUE(table_.Open(Out(IpProto::kUdp, 1), kOut, 0));
  ASSERT_TRUE(table_.Open(Out(IpProto::kIcmp, 2), kOut, 10 * kSecond));
  ASSERT_TRUE(table_.Open(Out(IpProto::kTcp, 3, FlowKey::kSyn), kOut, 0));
  table_.Expire(30 * kSecond);
  EXPECT_EQ(table_.size(), 2u);
  table_.Expire(120 * kSecond);
  EXPECT_EQ(table_.size(), 0u);
}

TEST(NetConntrackCap, EvictsSoonestDeadlineFirstSparingEstablished) {
  ConntrackLimits limits;
  limits.max_entries = 3;
  Conntrack table(limits);
  FlowKey established = Out(IpProto::kTcp, 1, FlowKey::kSyn);
  ASSERT_TRUE(table.Open(established, kOut, 0));
  table.Track(Reply(established, FlowKey::kSyn | FlowKey::kAck), kIn, 0);
  table.Track(Out(IpProto::kTcp, 1, FlowKey::kAck), kOut, 0);
  // A SYN flood: each new opening entry pushes out the oldest opening one.
  for (uint16_t port = 100; port < 200; ++port) {
    ASSERT_TRUE(table.Open(Out(IpProto::kTcp, port, FlowKey::kSyn), kOut, port));
    EXPECT_LE(table.size(), 3u);
  }
  EXPECT_EQ(table.evictions(), 98u);
  EXPECT_TRUE(table.Find(established, kOut, 200).has_value());
  EXPECT_TRUE(table.Find(Out(IpProto::kTcp, 199), kOut, 200).has_value());
  EXPECT_TRUE(table.Find(Out(IpProto::kTcp, 198), kOut, 200).has_value());
  EXPECT_FALSE(table.Find(Out(IpProto::kTcp, 197), kOut, 200).has_value());
}

TEST(NetConntrackCap, ExpiredEntriesGoBeforeLiveOnes) {
  ConntrackLimits limits;
  limits.max_entries = 2;
  Conntrack table(limits);
  ASSERT_TRUE(table.Open(Out(IpProto::kUdp, 1), kOut, 0));
  ASSERT_TRUE(table.Open(Out(IpProto::kTcp, 2, FlowKey::kSyn), kOut, 0));
  ASSERT_TRUE(table.Open(Out(IpProto::kUdp, 3), kOut, 31 * kSecond));
  EXPECT_EQ(table.evictions(), 0u);  // the UDP entry had expired, nothing live was lost
  EXPECT_TRUE(table.Find(Out(IpProto::kTcp, 2), kOut, 31 * kSecond).has_value());
}

TEST(NetConntrackCap, ZeroCapacityTracksNothing) {
  ConntrackLimits limits;
  limits.max_entries = 0;
  Conntrack table(limits);
  EXPECT_FALSE(table.Open(Out(IpProto::kUdp), kOut, 0));
}

}  // namespace
}  // namespace vk::net
