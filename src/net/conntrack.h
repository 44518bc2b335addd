// Connection tracking: remembers flows the firewall allowed so their return
// traffic passes even where the rules for the other direction would deny it
// (an egress-only policy must still let HTTPS responses in).
//
// A connection is keyed by its first packet's 5-tuple and direction; a later
// packet matches it either as the same tuple and direction (original) or as
// the reversed tuple in the opposite direction (reply). Timers per protocol
// (ConntrackLimits) restart on every matching packet; an entry is dead once
// now_ms >= its deadline. Time is passed in, so tests drive a fake clock.
//
// TCP is followed loosely (no sequence numbers; the guest and slirp own
// those): opening (2 min) until a reply is seen and an ACK without SYN
// follows, then established (2 h); any FIN or RST moves to closing (10 s,
// restarted by stragglers). A pure SYN on a closing entry is port reuse and
// reopens it. A pure SYN can never be a reply, so an outsider cannot ride a
// tracked tuple to open a connection towards the guest.
//
// Abuse bounds: the table holds at most max_entries (65536 by default,
// about 8 MiB). When full, a new flow evicts the entry closest to its
// deadline: expired ones first, then transitory ones, so a SYN flood (from
// the guest or through an ingress allow rule) churns through 2-minute opening
// entries and cannot push out established connections younger than ~2 h.
// Expired entries are reclaimed at most kExpireBatch per call to bound
// per-packet latency. The hash is seeded per table so peers cannot
// precompute colliding tuples.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>

#include "net/firewall_types.h"

namespace vk::net {

struct ConntrackLimits {
  size_t max_entries = 65536;
  uint64_t tcp_established_ms = 2 * 60 * 60 * 1000;
  uint64_t tcp_transitory_ms = 2 * 60 * 1000;
  uint64_t tcp_closing_ms = 10 * 1000;
  uint64_t udp_ms = 30 * 1000;
  uint64_t udp_stream_ms = 180 * 1000;  // once seen both ways
  uint64_t icmp_ms = 30 * 1000;
};

enum class ConnState : uint8_t { kOpening, kEstablished, kClosing };

// Which way a packet relates to a tracked connection.
enum class ConnMatch : uint8_t { kNone, kOriginal, kReply };

struct ConnInfo {
  ConnState state = ConnState::kOpening;
  bool seen_reply = false;
  uint64_t deadline_ms = 0;
};

class Conntrack {
 public:
  static constexpr size_t kExpireBatch = 64;

  explicit Conntrack(ConntrackLimits limits = {});

  // Finds the live connection `key` belongs to, advances its state and
  // restarts its timer. kNone: untracked, the rules decide.
  ConnMatch Track(const FlowKey& key, Direction direction, uint64_t now_ms);
  // Starts tracking a flow the rules just allowed. Returns false when the
  // packet cannot start one (a lone TCP FIN or RST), or max_entries is 0.
  bool Open(const FlowKey& key, Direction direction, uint64_t now_ms);
  // The live connection whose first packet was `key` going `direction`.
  std::optional<ConnInfo> Find(const FlowKey& key, Direction direction, uint64_t now_ms) const;
  // Drops every entry whose deadline has passed.
  void Expire(uint64_t now_ms) { ExpireSome(now_ms, SIZE_MAX); }

  size_t size() const { return table_.size(); }
  uint64_t evictions() const { return evictions_; }
  const ConntrackLimits& limits() const { return limits_; }

 private:
  struct Key {
    uint32_t src_ip = 0;
    uint32_t dst_ip = 0;
    uint16_t src_port = 0;
    uint16_t dst_port = 0;
    IpProto proto = IpProto::kTcp;
    Direction direction = Direction::kEgress;
    auto operator<=>(const Key&) const = default;
  };
  struct KeyHash {
    uint64_t seed;
    size_t operator()(const Key& key) const;
  };
  using Table = std::unordered_map<Key, ConnInfo, KeyHash>;

  static Key MakeKey(const FlowKey& key, Direction direction);
  Table::iterator FindLive(const Key& key, uint64_t now_ms);
  bool Advance(ConnInfo& info, const FlowKey& key, ConnMatch match) const;
  uint64_t Ttl(const ConnInfo& info, IpProto proto) const;
  void SetDeadline(const Key& key, ConnInfo& info, uint64_t deadline_ms);
  void Erase(Table::iterator it);
  void EvictOne();
  void ExpireSome(uint64_t now_ms, size_t limit);

  ConntrackLimits limits_;
  Table table_;
  // (deadline, key) for every entry: the front is the next to expire and
  // the eviction victim.
  std::set<std::pair<uint64_t, Key>> by_deadline_;
  uint64_t evictions_ = 0;
};

}  // namespace vk::net
