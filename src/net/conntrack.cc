#include "net/conntrack.h"

#include <cstdio>
#include <cstdlib>
#include <random>

namespace vk::net {
namespace {

uint64_t Mix(uint64_t value) {
  // splitmix64 finalizer: every input bit affects every output bit.
  value ^= value >> 30;
  value *= 0xbf58476d1ce4e5b9ULL;
  value ^= value >> 27;
  value *= 0x94d049bb133111ebULL;
  value ^= value >> 31;
  return value;
}

uint64_t RandomSeed() {
  std::random_device device;
  return uint64_t{device()} << 32 | device();
}

// Callers' clocks are trusted, but a wrapped deadline would make an entry
// immortal-then-dead at random; saturating keeps ordering meaningful.
uint64_t Deadline(uint64_t now_ms, uint64_t ttl_ms) {
  return now_ms > UINT64_MAX - ttl_ms ? UINT64_MAX : now_ms + ttl_ms;
}

bool IsPureSyn(uint8_t flags) { return (flags & (FlowKey::kSyn | FlowKey::kAck)) == FlowKey::kSyn; }

}  // namespace

size_t Conntrack::KeyHash::operator()(const Key& key) const {
  uint64_t addresses = uint64_t{key.src_ip} << 32 | key.dst_ip;
  uint64_t rest = uint64_t{key.src_port} << 32 | uint64_t{key.dst_port} << 16 |
                  uint64_t{static_cast<uint8_t>(key.proto)} << 8 |
                  static_cast<uint8_t>(key.direction);
  return Mix(Mix(addresses ^ seed) ^ rest);
}

Conntrack::Conntrack(ConntrackLimits limits) : limits_(limits), table_(16, KeyHash{RandomSeed()}) {}

Conntrack::Key Conntrack::MakeKey(const FlowKey& key, Direction direction) {
  return {key.src_ip, key.dst_ip, key.src_port, key.dst_port, key.proto, direction};
}

Conntrack::Table::iterator Conntrack::FindLive(const Key& key, uint64_t now_ms) {
  auto it = table_.find(key);
  if (it == table_.end()) return it;
  if (now_ms < it->second.deadline_ms) return it;
  Erase(it);
  return table_.end();
}

ConnMatch Conntrack::Track(const FlowKey& key, Direction direction, uint64_t now_ms) {
  ExpireSome(now_ms, kExpireBatch);
  ConnMatch match = ConnMatch::kOriginal;
  Key table_key = MakeKey(key, direction);
  auto it = FindLive(table_key, now_ms);
  if (it == table_.end()) {
    match = ConnMatch::kReply;
    table_key = MakeKey(key.Reversed(), Opposite(direction));
    it = FindLive(table_key, now_ms);
  }
  if (it == table_.end() || !Advance(it->second, key, match)) return ConnMatch::kNone;
  SetDeadline(table_key, it->second, Deadline(now_ms, Ttl(it->second, key.proto)));
  return match;
}

bool Conntrack::Advance(ConnInfo& info, const FlowKey& key, ConnMatch match) const {
  if (key.proto != IpProto::kTcp) {
    if (match == ConnMatch::kReply) info.seen_reply = true;
    return true;
  }
  uint8_t flags = key.tcp_flags;
  if (match == ConnMatch::kReply && IsPureSyn(flags)) return false;
  if (match == ConnMatch::kOriginal && IsPureSyn(flags) && info.state == ConnState::kClosing) {
    // The client reuses the tuple for a new connection; the deadline stays
    // (it indexes by_deadline_) until the caller sets the new one.
    info.state = ConnState::kOpening;
    info.seen_reply = false;
    return true;
  }
  if (match == ConnMatch::kReply) info.seen_reply = true;
  if (flags & (FlowKey::kFin | FlowKey::kRst)) {
    info.state = ConnState::kClosing;
  } else if (info.state == ConnState::kOpening && info.seen_reply && (flags & FlowKey::kAck) &&
             !(flags & FlowKey::kSyn)) {
    info.state = ConnState::kEstablished;
  }
  return true;
}

uint64_t Conntrack::Ttl(const ConnInfo& info, IpProto proto) const {
  switch (proto) {
    case IpProto::kUdp: return info.seen_reply ? limits_.udp_stream_ms : limits_.udp_ms;
    case IpProto::kIcmp: return limits_.icmp_ms;
    case IpProto::kTcp: break;
  }
  switch (info.state) {
    case ConnState::kOpening: return limits_.tcp_transitory_ms;
    case ConnState::kEstablished: return limits_.tcp_established_ms;
    case ConnState::kClosing: return limits_.tcp_closing_ms;
  }
  return limits_.tcp_closing_ms;
}

bool Conntrack::Open(const FlowKey& key, Direction direction, uint64_t now_ms) {
  if (key.proto == IpProto::kTcp && (key.tcp_flags & (FlowKey::kFin | FlowKey::kRst))) return false;
  if (limits_.max_entries == 0) return false;
  Key table_key = MakeKey(key, direction);
  if (auto old = table_.find(table_key); old != table_.end()) Erase(old);
  ExpireSome(now_ms, kExpireBatch);
  while (table_.size() >= limits_.max_entries) EvictOne();
  ConnInfo info;
  info.deadline_ms = Deadline(now_ms, Ttl(info, key.proto));
  table_.emplace(table_key, info);
  by_deadline_.emplace(info.deadline_ms, table_key);
  return true;
}

std::optional<ConnInfo> Conntrack::Find(const FlowKey& key, Direction direction,
                                        uint64_t now_ms) const {
  auto it = table_.find(MakeKey(key, direction));
  if (it == table_.end() || now_ms >= it->second.deadline_ms) return std::nullopt;
  return it->second;
}

void Conntrack::SetDeadline(const Key& key, ConnInfo& info, uint64_t deadline_ms) {
  if (deadline_ms == info.deadline_ms) return;
  // Re-keys the index node in place: no allocation on the per-packet path.
  auto node = by_deadline_.extract({info.deadline_ms, key});
  if (node.empty()) {
    // table_ and by_deadline_ disagree: a bug here, not bad input.
    std::fprintf(stderr, "conntrack: deadline index out of sync\n");
    std::abort();
  }
  node.value().first = deadline_ms;
  by_deadline_.insert(std::move(node));
  info.deadline_ms = deadline_ms;
}

void Conntrack::Erase(Table::iterator it) {
  by_deadline_.erase({it->second.deadline_ms, it->first});
  table_.erase(it);
}

void Conntrack::EvictOne() {
  auto victim = table_.find(by_deadline_.begin()->second);
  Erase(victim);
  ++evictions_;
}

void Conntrack::ExpireSome(uint64_t now_ms, size_t limit) {
  for (size_t i = 0; i < limit && !by_deadline_.empty(); ++i) {
    auto front = by_deadline_.begin();
    if (front->first > now_ms) break;
    table_.erase(front->second);
    by_deadline_.erase(front);
  }
}

}  // namespace vk::net
