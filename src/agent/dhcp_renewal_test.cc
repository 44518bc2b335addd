// Lease renewal (RFC 2131 §4.4.5) on fake time: when the client sends, what
// it sends, which answers it takes, and where each outcome leads; then the
// thread that runs it for real, and one renewal through the LAN's own DHCP
// server (src/net).
#include "agent/dhcp_renewal.h"

#include <gtest/gtest.h>

#include <atomic>
#include <deque>

#include "agent/testing_dhcp_transport.h"
#include "net/dhcp_server.h"

namespace vk::agent {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Payloads = std::vector<std::vector<uint8_t>>;

constexpr MacAddress kMac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
constexpr uint32_t kXid = 0x11223344;
constexpr uint32_t kOurIp = 0xc0a87f02;  // 192.168.127.2
constexpr uint32_t kServer = 0xc0a87f01;

std::vector<uint8_t> Concat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<uint8_t> U32(uint32_t value) {
  return {static_cast<uint8_t>(value >> 24), static_cast<uint8_t>(value >> 16),
          static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value)};
}

// A reply giving `yiaddr`, built byte by byte (RFC 2131 §2).
std::vector<uint8_t> ServerReply(uint32_t xid, uint32_t yiaddr, const std::vector<uint8_t>& options,
                                 MacAddress mac = kMac) {
  std::vector<uint8_t> m = {2, 1, 6, 0};
  m = Concat(m, U32(xid));
  m.insert(m.end(), 8, 0);  // secs, flags, ciaddr
  m = Concat(m, U32(yiaddr));
  m.insert(m.end(), 8, 0);  // siaddr, giaddr
  m.insert(m.end(), mac.begin(), mac.end());
  m.insert(m.end(), 10 + 64 + 128, 0);
  m.insert(m.end(), {99, 130, 83, 99});
  return Concat(m, options);
}

// An ACK (or OFFER) from `server` for `lease_seconds`, with T1/T2 if given.
std::vector<uint8_t> Reply(uint8_t type, uint32_t xid, uint32_t yiaddr = kOurIp,
                           uint32_t lease_seconds = 3600, uint32_t server = kServer,
                           std::vector<uint8_t> extra = {}) {
  std::vector<uint8_t> options = {53, 1, type, 54, 4};
  options = Concat(options, U32(server));
  options = Concat(options, {1, 4, 255, 255, 255, 0, 3, 4, 192, 168, 127, 1, 51, 4});
  options = Concat(options, U32(lease_seconds));
  options = Concat(options, extra);
  options.push_back(255);
  return ServerReply(xid, yiaddr, options);
}
std::vector<uint8_t> Ack(uint32_t xid, uint32_t yiaddr = kOurIp, uint32_t lease = 3600) {
  return Reply(5, xid, yiaddr, lease);
}
std::vector<uint8_t> Nak(uint32_t xid) {
  return ServerReply(xid, 0, Concat(Concat({53, 1, 6, 54, 4}, U32(kServer)), {255}));
}

std::optional<std::vector<uint8_t>> SentOption(const std::vector<uint8_t>& m, uint8_t code) {
  for (size_t at = 240; at + 1 < m.size() && m[at] != 255; at += m[at] == 0 ? 1 : 2 + m[at + 1]) {
    if (m[at] == code)
      return std::vector<uint8_t>(m.begin() + at + 2, m.begin() + at + 2 + m[at + 1]);
  }
  return std::nullopt;
}
uint32_t Field(const std::vector<uint8_t>& m, size_t at) {
  return uint32_t{m[at]} << 24 | uint32_t{m[at + 1]} << 16 | uint32_t{m[at + 2]} << 8 | m[at + 3];
}
uint32_t SentXid(const std::vector<uint8_t>& m) { return Field(m, 4); }
uint32_t SentCiaddr(const std::vector<uint8_t>& m) { return Field(m, 12); }
uint8_t SentType(const std::vector<uint8_t>& m) { return SentOption(m, 53).value().at(0); }

// Time passes only in sleeps and in Receive waits that nothing answers.
class FakeLan : public QueuedDhcpTransport {
 public:
  using Responder = std::function<Payloads(const std::vector<uint8_t>&)>;
  explicit FakeLan(Responder respond) : respond_(std::move(respond)) {}

  Result<void> Send(std::span<const uint8_t> payload) override {
    if (fail_sends) return Error("network is down");
    return QueuedDhcpTransport::Send(payload);
  }

  DhcpTime Now() const { return DhcpTime(now); }

  DhcpRenewalOptions Options() {
    DhcpRenewalOptions options;
    options.client.mac = kMac;
    options.client.hostname = "web1";
    options.client.xid = kXid;
    options.client.now = [this] { return Now(); };
    options.sleep_until = [this](DhcpTime until) {
      sleeps.push_back(until.time_since_epoch());
      now = std::max(now, std::chrono::ceil<milliseconds>(until.time_since_epoch()));
    };
    options.apply = [this](const DhcpLease& previous, const DhcpLease& current) -> Result<void> {
      applied.emplace_back(previous, current);
      return Ok();
    };
    options.log = [this](const std::string& line) { log.push_back(line); };
    return options;
  }

  std::vector<DhcpTime::duration> sleeps;
  std::vector<std::pair<DhcpLease, DhcpLease>> applied;
  std::vector<std::string> log;
  bool fail_sends = false;

 protected:
  Payloads Replies(const std::vector<uint8_t>& payload) override { return respond_(payload); }

 private:
  Responder respond_;
};

DhcpLease BoundLease(uint32_t lease_seconds = 3600) {
  DhcpLease lease;
  lease.ip = kOurIp;
  lease.prefix_len = 24;
  lease.router = kServer;
  lease.lease_seconds = lease_seconds;
  lease.server_id = kServer;
  return lease;
}

Payloads Silence(const std::vector<uint8_t>&) { return {}; }
Payloads AckEverything(const std::vector<uint8_t>& m) { return {Ack(SentXid(m))}; }

seconds S(int64_t n) { return seconds(n); }
milliseconds Ms(int64_t n) { return milliseconds(n); }

TEST(AgentDhcpRenewal, TimesFollowTheRfcDefaultsAndClampNonsense) {
  DhcpLease lease = BoundLease(3600);
  auto times = LeaseTimes(lease);
  ASSERT_TRUE(times.has_value());
  EXPECT_EQ(times->renew, S(1800));
  EXPECT_EQ(times->rebind, S(3150));
  EXPECT_EQ(times->expire, S(3600));
  lease.renewal_seconds = 1000, lease.rebinding_seconds = 2000;  // offered T1, T2
  EXPECT_EQ(LeaseTimes(lease)->renew, S(1000));
  EXPECT_EQ(LeaseTimes(lease)->rebind, S(2000));
  lease.renewal_seconds = 2500;  // T1 past T2: the default, kept below T2
  EXPECT_EQ(LeaseTimes(lease)->renew, S(1800));
  lease.renewal_seconds = 0, lease.rebinding_seconds = 5000;  // T2 past the lease
  EXPECT_EQ(LeaseTimes(lease)->rebind, S(3150));
  lease.rebinding_seconds = 100;  // T2 before lease/2: T1 cannot be later
  EXPECT_EQ(LeaseTimes(lease)->renew, S(100));
  auto tiny = LeaseTimes(BoundLease(1));  // raised to the 20 s floor
  EXPECT_EQ(tiny->renew, S(10));
  EXPECT_EQ(tiny->rebind, S(17));
  EXPECT_EQ(tiny->expire, S(20));
  EXPECT_EQ(LeaseTimes(BoundLease(0xfffffffe))->rebind, S(uint64_t{0xfffffffe} * 7 / 8));
  EXPECT_FALSE(LeaseTimes(BoundLease(kDhcpInfiniteLease)).has_value());
  EXPECT_FALSE(LeaseTimes(BoundLease(0)).has_value());  // not offered
}

TEST(AgentDhcpRenewal, RenewsAtT1WithCiaddrAndNoServerOptions) {
  FakeLan lan(AckEverything);
  DhcpRenewal renewal(lan, lan.Options(), BoundLease(), DhcpTime());
  renewal.Step();  // sleeps until T1
  EXPECT_EQ(lan.sleeps, std::vector<DhcpTime::duration>{S(1800)});
  EXPECT_TRUE(lan.sent.empty());
  EXPECT_EQ(renewal.state(), DhcpRenewalState::kRenewing);
  renewal.Step();
  ASSERT_EQ(lan.sent.size(), 1u);
  const auto& request = lan.sent[0];
  EXPECT_EQ(lan.send_times[0], S(1800));
  EXPECT_EQ(SentType(request), 3);
  EXPECT_EQ(SentCiaddr(request), kOurIp);
  EXPECT_FALSE(SentOption(request, 50).has_value());  // RFC 2131 §4.3.2: MUST NOT
  EXPECT_FALSE(SentOption(request, 54).has_value());
  EXPECT_EQ(SentOption(request, 12), (std::vector<uint8_t>{'w', 'e', 'b', '1'}));  // NAME.lan
  EXPECT_EQ(SentXid(request), kXid);
  EXPECT_EQ(renewal.state(), DhcpRenewalState::kBound);
  EXPECT_EQ(renewal.granted_at(), DhcpTime(S(1800)));  // ACK extends from the REQUEST
  ASSERT_EQ(lan.applied.size(), 1u);
  EXPECT_EQ(lan.applied[0].second.ip, kOurIp);
  EXPECT_TRUE(lan.log.empty());  // a routine renewal stays off the console
  renewal.Step();
  EXPECT_EQ(lan.sleeps.back(), S(3600));  // next T1, half the new lease on
  renewal.Step();
  EXPECT_EQ(SentXid(lan.sent.at(1)), kXid + 1);  // a new transaction
}

TEST(AgentDhcpRenewal, AckTakesNewTimesAndAddress) {
  FakeLan lan([](const std::vector<uint8_t>& m) -> Payloads {
    return {Reply(5, SentXid(m), 0xc0a87f09, 600, kServer, {58, 4, 0, 0, 0, 100})};
  });
  DhcpRenewal renewal(lan, lan.Options(), BoundLease(), DhcpTime());
  renewal.Step();
  renewal.Step();
  ASSERT_EQ(renewal.state(), DhcpRenewalState::kBound);
  EXPECT_EQ(renewal.lease().lease_seconds, 600u);
  ASSERT_EQ(lan.applied.size(), 1u);
  EXPECT_EQ(lan.applied[0].first.ip, kOurIp);
  EXPECT_EQ(lan.applied[0].second.ip, 0xc0a87f09u);  // the caller re-applies
  EXPECT_EQ(lan.log.size(), 1u);                     // an address change is worth a line
  renewal.Step();
  EXPECT_EQ(lan.sleeps.back(), S(1800 + 100));  // offered T1
}

TEST(AgentDhcpRenewal, SilenceRetransmitsUntilT2ThenRebindsUntilExpiry) {
  FakeLan lan(Silence);
  DhcpRenewal renewal(lan, lan.Options(), BoundLease(), DhcpTime());
  renewal.Step();
  while (renewal.state() == DhcpRenewalState::kRenewing) renewal.Step();
  EXPECT_EQ(renewal.state(), DhcpRenewalState::kRebinding);
  EXPECT_EQ(lan.now, S(3150));
  // Half the time left to T2 each time, but at least 60 s (RFC 2131 §4.4.5).
  EXPECT_EQ(lan.send_times, (std::vector<milliseconds>{S(1800), S(2475), Ms(2812500), Ms(2981250),
                                                       Ms(3065625), Ms(3125625)}));
  const size_t renewing = lan.sent.size();
  while (renewal.state() == DhcpRenewalState::kRebinding) renewal.Step();
  EXPECT_EQ(renewal.state(), DhcpRenewalState::kInit);
  EXPECT_EQ(lan.now, S(3600));
  EXPECT_EQ(std::vector<milliseconds>(lan.send_times.begin() + renewing, lan.send_times.end()),
            (std::vector<milliseconds>{S(3150), S(3375), Ms(3487500), Ms(3547500)}));
  for (const auto& m : lan.sent) {  // RENEWING and REBINDING send the same message
    EXPECT_EQ(SentType(m), 3);
    EXPECT_EQ(SentCiaddr(m), kOurIp);
    EXPECT_EQ(SentXid(m), kXid);
  }
  ASSERT_EQ(lan.log.size(), 2u);  // "asking any server", "expired"
  EXPECT_NE(lan.log[1].find("expired"), std::string::npos);
  EXPECT_TRUE(lan.applied.empty());  // nothing removed
}

// Finding: a guest on the shared LAN posing as a DHCP server could answer
// our renewals. Only the server that granted the lease is believed, in
// RENEWING, REBINDING and the INIT that follows expiry.
TEST(AgentDhcpRenewal, OnlyTheLeasingServerIsBelievedThroughExpiry) {
  constexpr uint32_t kOther = 0xc0a87ffe;
  FakeLan lan([](const std::vector<uint8_t>& m) -> Payloads {
    return {Reply(SentType(m) == 1 ? 2 : 5, SentXid(m), kOurIp, 3600, kOther),
            ServerReply(SentXid(m), kOurIp, {53, 1, 5, 255})};  // no server id at all
  });
  DhcpRenewal renewal(lan, lan.Options(), BoundLease(), DhcpTime());
  renewal.Step();
  while (renewal.state() == DhcpRenewalState::kRenewing) renewal.Step();
  EXPECT_EQ(renewal.state(), DhcpRenewalState::kRebinding);
  while (renewal.state() == DhcpRenewalState::kRebinding) renewal.Step();
  EXPECT_EQ(renewal.state(), DhcpRenewalState::kInit);
  renewal.Step();  // DISCOVER: the other server's OFFER is not taken either
  EXPECT_EQ(renewal.state(), DhcpRenewalState::kInit);
  EXPECT_EQ(renewal.lease().server_id, kServer);
  EXPECT_TRUE(lan.applied.empty());
}

TEST(AgentDhcpRenewal, NakRestartsFromDiscoverAndAppliesTheNewLease) {
  constexpr uint32_t kNewIp = 0xc0a87f07;
  FakeLan lan([](const std::vector<uint8_t>& m) -> Payloads {
    if (SentType(m) == 1) return {Reply(2, SentXid(m), kNewIp)};
    if (SentCiaddr(m) != 0) return {Nak(SentXid(m))};
    return {Ack(SentXid(m), kNewIp)};
  });
  DhcpRenewal renewal(lan, lan.Options(), BoundLease(), DhcpTime());
  renewal.Step();
  renewal.Step();
  EXPECT_EQ(renewal.state(), DhcpRenewalState::kInit);
  ASSERT_EQ(lan.log.size(), 1u);
  EXPECT_NE(lan.log[0].find("refused"), std::string::npos);
  EXPECT_TRUE(lan.applied.empty());
  renewal.Step();
  EXPECT_EQ(renewal.state(), DhcpRenewalState::kBound);
  ASSERT_EQ(lan.sent.size(), 3u);
  EXPECT_EQ(SentType(lan.sent[1]), 1);  // DISCOVER, from 0.0.0.0
  EXPECT_EQ(SentCiaddr(lan.sent[1]), 0u);
  EXPECT_NE(SentXid(lan.sent[1]), kXid);
  EXPECT_EQ(SentOption(lan.sent[2], 50), U32(kNewIp));  // SELECTING again
  ASSERT_EQ(lan.applied.size(), 1u);
  EXPECT_EQ(lan.applied[0].first.ip, kOurIp);
  EXPECT_EQ(lan.applied[0].second.ip, kNewIp);
  EXPECT_EQ(renewal.lease().ip, kNewIp);
}

TEST(AgentDhcpRenewal, InitWithoutServerKeepsTheAddressAndRetries) {
  FakeLan lan(Silence);
  DhcpRenewal renewal(lan, lan.Options(), BoundLease(), DhcpTime());
  while (renewal.state() != DhcpRenewalState::kInit) renewal.Step();
  const milliseconds expired_at = lan.now;
  renewal.Step();
  EXPECT_EQ(renewal.state(), DhcpRenewalState::kInit);
  EXPECT_EQ(renewal.lease().ip, kOurIp);
  EXPECT_TRUE(lan.applied.empty());
  EXPECT_NE(lan.log.back().find("trying again in 60 s"), std::string::npos);
  EXPECT_EQ(lan.now, expired_at + S(15) + S(60));  // the client's timeout, then the pause
}

TEST(AgentDhcpRenewal, InfiniteLeaseNeverRenews) {
  FakeLan lan(AckEverything);
  DhcpRenewal renewal(lan, lan.Options(), BoundLease(kDhcpInfiniteLease), DhcpTime());
  EXPECT_TRUE(renewal.Done());
  renewal.Step();
  EXPECT_TRUE(lan.sent.empty());
  EXPECT_TRUE(lan.sleeps.empty());
  // An ACK that makes the lease infinite ends the renewals too.
  FakeLan lan2([](const std::vector<uint8_t>& m) -> Payloads {
    return {Ack(SentXid(m), kOurIp, kDhcpInfiniteLease)};
  });
  DhcpRenewal finite(lan2, lan2.Options(), BoundLease(), DhcpTime());
  finite.Step();
  finite.Step();
  EXPECT_TRUE(finite.Done());
}

TEST(AgentDhcpRenewal, MalformedAndForeignRepliesAreIgnored) {
  FakeLan lan([](const std::vector<uint8_t>& m) -> Payloads {
    const uint32_t xid = SentXid(m);
    Payloads replies = {{}, {1, 2, 3}, std::vector<uint8_t>(600, 0xff)};
    replies.push_back(Ack(xid + 1));                               // another transaction
    replies.push_back(Ack(xid - 1));                               // an old one
    replies.push_back(Reply(2, xid));                              // an OFFER
    replies.push_back(m);                                          // our own broadcast
    replies.push_back(Reply(5, xid, kOurIp, 3600, 0xc0a87ffe));    // another server
    replies.push_back(ServerReply(xid, kOurIp, {53, 1, 6, 255}));  // a NAK naming no server
    replies.push_back(ServerReply(xid, kOurIp, {53, 1, 5, 51}));   // truncated options
    auto foreign = Ack(xid);
    foreign[28] ^= 1;  // someone else's chaddr
    replies.push_back(foreign);
    auto cut = Ack(xid);
    cut.pop_back();  // no end option
    replies.push_back(cut);
    replies.push_back(Ack(xid, kOurIp, 7200));
    return replies;
  });
  DhcpRenewal renewal(lan, lan.Options(), BoundLease(), DhcpTime());
  renewal.Step();
  renewal.Step();
  EXPECT_EQ(renewal.state(), DhcpRenewalState::kBound);
  EXPECT_EQ(renewal.lease().lease_seconds, 7200u);
  EXPECT_EQ(renewal.lease().server_id, kServer);
  EXPECT_EQ(lan.sent.size(), 1u);
}

TEST(AgentDhcpRenewal, TransportErrorsAreLoggedAndWaitedOut) {
  FakeLan lan(AckEverything);
  DhcpRenewal renewal(lan, lan.Options(), BoundLease(), DhcpTime());
  renewal.Step();
  lan.fail_sends = true;
  renewal.Step();
  EXPECT_EQ(renewal.state(), DhcpRenewalState::kRenewing);
  ASSERT_EQ(lan.log.size(), 1u);
  EXPECT_NE(lan.log[0].find("network is down"), std::string::npos);
  EXPECT_EQ(lan.now, S(1810));
  lan.fail_sends = false;
  renewal.Step();
  EXPECT_EQ(renewal.state(), DhcpRenewalState::kBound);
}

// Real time: answers at once, or blocks for the whole timeout.
class ThreadLan : public DhcpTransport {
 public:
  explicit ThreadLan(bool answer) : answer_(answer) {}
  Result<void> Send(std::span<const uint8_t> payload) override {
    std::lock_guard lock(mutex_);
    const std::vector<uint8_t> m(payload.begin(), payload.end());
    if (answer_) inbox_.push_back(Ack(SentXid(m)));
    ++sends;
    return Ok();
  }
  Result<std::optional<std::vector<uint8_t>>> Receive(milliseconds timeout) override {
    {
      std::lock_guard lock(mutex_);
      if (!inbox_.empty()) {
        auto reply = std::move(inbox_.front());
        inbox_.pop_front();
        return std::optional(std::move(reply));
      }
    }
    std::this_thread::sleep_for(timeout);
    return std::optional<std::vector<uint8_t>>();
  }
  std::atomic<int> sends{0};

 private:
  bool answer_;
  std::mutex mutex_;
  std::deque<std::vector<uint8_t>> inbox_;
};

DhcpRenewalOptions ThreadOptions(std::atomic<int>& applied) {
  DhcpRenewalOptions options;
  options.client.mac = kMac;
  options.client.xid = kXid;
  options.apply = [&applied](const DhcpLease&, const DhcpLease&) -> Result<void> {
    ++applied;
    return Ok();
  };
  options.log = [](const std::string&) {};
  return options;
}

template <typename Predicate>
bool WaitFor(Predicate done) {
  for (int i = 0; i < 500 && !done(); ++i) std::this_thread::sleep_for(milliseconds(10));
  return done();
}

TEST(AgentDhcpRenewal, ThreadRenewsThenStopsWhileSleeping) {
  auto transport = std::make_unique<ThreadLan>(true);
  ThreadLan& lan = *transport;
  std::atomic<int> applied{0};
  // Granted half a lease ago: T1 is now.
  const DhcpTime granted = std::chrono::steady_clock::now() - S(1800);
  auto thread = std::make_unique<DhcpRenewalThread>(std::move(transport), ThreadOptions(applied),
                                                    BoundLease(), granted);
  ASSERT_TRUE(WaitFor([&] { return applied.load() == 1; }));
  EXPECT_EQ(lan.sends.load(), 1);
  const auto stop = std::chrono::steady_clock::now();
  thread.reset();  // now sleeping until the next T1, half an hour away
  EXPECT_LT(std::chrono::steady_clock::now() - stop, seconds(1));
}

TEST(AgentDhcpRenewal, ThreadStopsWhileWaitingForAnAnswer) {
  auto transport = std::make_unique<ThreadLan>(false);
  ThreadLan& lan = *transport;
  std::atomic<int> applied{0};
  const DhcpTime granted = std::chrono::steady_clock::now() - S(1800);
  auto thread = std::make_unique<DhcpRenewalThread>(std::move(transport), ThreadOptions(applied),
                                                    BoundLease(), granted);
  ASSERT_TRUE(WaitFor([&] { return lan.sends.load() == 1; }));
  const auto stop = std::chrono::steady_clock::now();
  thread.reset();  // inside a 675 s wait for the ACK
  EXPECT_LT(std::chrono::steady_clock::now() - stop, seconds(1));
  EXPECT_EQ(applied.load(), 0);
}

// The agent's messages through vk::net::DhcpServer, the gateway's server.
class ServerLan : public QueuedDhcpTransport {
 public:
  explicit ServerLan(net::DhcpServer& server) : server_(server) {}

 protected:
  Payloads Replies(const std::vector<uint8_t>& payload) override {
    net::MacAddress from{{kMac[0], kMac[1], kMac[2], kMac[3], kMac[4], kMac[5]}};
    if (auto reply = server_.Handle(payload, from)) return {std::move(reply->payload)};
    return {};
  }

 private:
  net::DhcpServer& server_;
};

// Another guest asking for an address, as the server sees it.
std::optional<uint32_t> OtherGuestOffer(net::DhcpServer& server) {
  DhcpClientOptions other;
  other.mac = {0x52, 0x54, 0x00, 0, 0, 0x77};
  auto reply =
      server.Handle(BuildDhcpDiscover(other, 7), net::MacAddress{{0x52, 0x54, 0x00, 0, 0, 0x77}});
  if (!reply) return std::nullopt;
  auto offer = ParseDhcpReply(reply->payload, 7, other.mac);
  return offer ? std::optional(offer->lease.ip) : std::nullopt;
}

TEST(AgentDhcpRenewal, RenewsThroughTheGatewayServer) {
  milliseconds* clock = nullptr;
  net::DhcpServerConfig config;
  config.server_ip = kServer;
  config.netmask = 0xffffff00;
  config.pool_first = config.pool_last = kOurIp;  // one address: who holds it shows
  net::DhcpServer server(config, [&] { return net::TimePoint(*clock); });
  ServerLan lan(server);
  clock = &lan.now;
  DhcpRenewalOptions options;
  options.client.mac = kMac;
  options.client.hostname = "web1";
  options.client.xid = kXid;
  options.client.now = [&] { return DhcpTime(lan.now); };
  options.sleep_until = [&](DhcpTime until) {
    lan.now = std::max(lan.now, std::chrono::ceil<milliseconds>(until.time_since_epoch()));
  };
  options.apply = [](const DhcpLease&, const DhcpLease&) -> Result<void> { return Ok(); };
  options.log = [](const std::string&) {};
  auto lease = RunDhcpClient(lan, options.client);
  ASSERT_TRUE(lease.ok()) << lease.error().message();
  EXPECT_EQ(lease->renewal_seconds, 1800u);  // the server sends T1 and T2
  EXPECT_EQ(lease->rebinding_seconds, 3150u);
  options.client.xid = kXid + 10;
  DhcpRenewal renewal(lan, options, *lease, DhcpTime());
  renewal.Step();
  renewal.Step();
  ASSERT_EQ(renewal.state(), DhcpRenewalState::kBound) << "server did not ACK the renewal";
  EXPECT_EQ(renewal.granted_at(), DhcpTime(S(1800)));
  EXPECT_EQ(renewal.lease().ip, kOurIp);
  // Past the first lease's end the address is still ours: the pool's only
  // address is not offered to another guest.
  lan.now = S(4000);
  EXPECT_FALSE(OtherGuestOffer(server).has_value());
  // Without renewing again it lapses at 5400 s and is reclaimed; the next
  // renewal is refused and the agent starts over.
  lan.now = S(6000);
  EXPECT_EQ(OtherGuestOffer(server), kOurIp);
  auto taken =
      server.Handle(BuildDhcpRequest(DhcpClientOptions{.mac = {0x52, 0x54, 0x00, 0, 0, 0x77}}, 8,
                                     kOurIp, kServer),
                    net::MacAddress{{0x52, 0x54, 0x00, 0, 0, 0x77}});
  ASSERT_TRUE(taken.has_value());
  DhcpRenewal late(lan, options, renewal.lease(), DhcpTime(S(6000) - S(1800)));
  late.Step();  // T1 is now
  late.Step();
  EXPECT_EQ(late.state(), DhcpRenewalState::kInit);
}

}  // namespace
}  // namespace vk::agent
