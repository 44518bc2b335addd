// Fuzzes the firewall's policy text and its packet path: the input's first
// part is a rule file (ParseRules), the second an --egress-allow list
// (ParseEgressAllow), the rest raw flow keys driven through Check with a
// clock that only moves forward. Parsed rules must round-trip through
// ToString, and conntrack must stay within its cap. Must never crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string_view>

#include "net/egress_policy.h"
#include "net/firewall.h"
#include "net/firewall_rule.h"

namespace {

using vk::net::Direction;
using vk::net::FlowKey;
using vk::net::IpProto;

constexpr size_t kKeyBytes = 16;
constexpr size_t kMaxKeys = 1024;  // bounds time per input

// Splits at the first NUL; returns the part before and advances `data`.
std::string_view TakeText(std::span<const uint8_t>& data) {
  const auto* chars = reinterpret_cast<const char*>(data.data());
  size_t length = strnlen(chars, data.size());
  std::string_view text(chars, length);
  data = data.subspan(length < data.size() ? length + 1 : length);
  return text;
}

uint32_t Read32(const uint8_t* p) { return uint32_t{p[0]} << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

// Keeps addresses in a few small pools so flows collide with rules and with
// each other's reverse tuples often enough to exercise conntrack.
uint32_t PickIp(uint8_t selector, uint32_t raw) {
  switch (selector & 3) {
    case 0: return 0x0A00020F;
    case 1: return 0x0A000000 | (raw & 0x3);
    case 2: return 0x5DB8D820 | (raw & 0x3);
    default: return raw;
  }
}

FlowKey ParseKey(const uint8_t* p, Direction* direction, uint64_t* advance_ms) {
  static constexpr IpProto kProtos[] = {IpProto::kTcp, IpProto::kUdp, IpProto::kIcmp};
  FlowKey key;
  key.proto = kProtos[p[0] % 3];
  *direction = (p[0] & 0x80) ? Direction::kIngress : Direction::kEgress;
  key.src_ip = PickIp(p[1], Read32(p + 2));
  key.dst_ip = PickIp(p[1] >> 2, Read32(p + 6));
  key.src_port = static_cast<uint16_t>((p[10] << 8 | p[11]) & ((p[1] & 0x10) ? 0xffff : 0x7));
  key.dst_port = static_cast<uint16_t>((p[12] << 8 | p[13]) & ((p[1] & 0x20) ? 0xffff : 0x7));
  key.tcp_flags = p[14];
  // Mostly small steps, sometimes a jump past every timeout.
  *advance_ms = (p[15] & 0x80) ? uint64_t{p[15]} << 24 : p[15];
  return key;
}

void CheckRoundTrip(const vk::net::RuleSet& rules) {
  for (const vk::net::Rule& rule : rules.rules) {
    auto again = vk::net::ParseRule(rule.ToString());
    if (!again.ok() || !(*again == rule)) abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> input(data, size);
  auto rules = vk::net::ParseRules(TakeText(input));
  auto allow = vk::net::ParseEgressAllow(TakeText(input));
  if (!rules.ok()) rules = vk::net::RuleSet{};
  CheckRoundTrip(*rules);
  vk::net::ConntrackLimits limits;
  limits.max_entries = 64;  // small, so eviction runs
  vk::net::Firewall firewall(std::move(*rules), limits);
  vk::net::EgressLimits egress_limits;
  egress_limits.max_learned = 16;
  vk::net::EgressPolicy policy(allow.ok() ? std::move(*allow) : vk::net::EgressAllowList{},
                               egress_limits);
  if (allow.ok()) firewall.SetEgressPolicy(&policy);
  uint64_t now_ms = 0;
  for (size_t i = 0; i < kMaxKeys && input.size() >= kKeyBytes; ++i) {
    Direction direction;
    uint64_t advance_ms;
    FlowKey key = ParseKey(input.data(), &direction, &advance_ms);
    input = input.subspan(kKeyBytes);
    now_ms += advance_ms;
    if (key.tcp_flags == 0xff) {  // sometimes a DNS answer instead of a packet
      uint32_t ip = key.dst_ip;
      policy.Learn("a.example.com", std::span<const uint32_t>(&ip, 1), key.src_port, now_ms);
    }
    (void)firewall.Check(key, direction, now_ms);
    if (firewall.conntrack().size() > limits.max_entries) abort();
  }
  return 0;
}
