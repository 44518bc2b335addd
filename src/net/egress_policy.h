// Egress allow-listing by DNS name and CIDR, for `--egress-allow
// github.com,*.npmjs.org,10.0.0.0/8`. The guest may reach:
//   - any address inside an allowed CIDR, and
//   - addresses the built-in DNS server returned for an allowed name, for
//     the answer's TTL clamped to [30 s, 1 h] (Learn).
// The DNS server answers NXDOMAIN for names AllowName rejects, so software in
// the guest fails with "host not found" instead of a mysterious timeout.
//
// Name patterns: "example.com" matches exactly that name; "*.example.com"
// matches every name below it ("a.example.com", "a.b.example.com") but not
// the apex "example.com" (list both if both are wanted). Matching is ASCII
// case-insensitive and ignores one trailing dot.
//
// Limits: DNS-based allow-listing trusts the allowed zones' DNS, so an
// allowed zone that returns arbitrary addresses makes them reachable; that is
// inherent in the design, and the TTL clamp bounds how long. Addresses that
// are never anyone's public service are never learned, whatever name they
// answer for (NeverLearned): an allowed name resolving to 127.0.0.1 would
// otherwise open the host's loopback, one resolving to 169.254.169.254 the
// cloud metadata service. Write them as CIDRs to allow them on purpose. A guest can
// make us learn many addresses by querying many names under a wildcard, so
// at most max_learned addresses are kept (the soonest to expire is evicted
// first); an evicted address becomes unreachable until queried again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/result.h"
#include "net/cidr.h"

namespace vk::net {

struct EgressAllowList {
  // Normalized: lowercase, no trailing dot; wildcards keep their "*." prefix.
  std::vector<std::string> names;
  std::vector<Cidr> cidrs;
};

// Comma-separated names, wildcards, addresses and CIDRs; spaces around
// entries are ignored. An empty (or all-space) text is an empty list, which
// allows nothing.
Result<EgressAllowList> ParseEgressAllow(std::string_view text);

struct EgressLimits {
  size_t max_learned = 4096;             // ~100 B each
  uint64_t min_ttl_ms = 30 * 1000;       // DNS TTL 0 must not make an answer useless
  uint64_t max_ttl_ms = 60 * 60 * 1000;  // bounds how long a stale answer grants access
};

// The LAN the policy guards (default 192.168.127.0/24, gateway .1).
struct EgressLan {
  Cidr subnet{0xC0A87F00, 24};
  uint32_t gateway = 0xC0A87F01;
};

class EgressPolicy {
 public:
  explicit EgressPolicy(EgressAllowList allow, EgressLimits limits = {}, EgressLan lan = {});

  // Why `ip` is never learned from a DNS answer, or null if it may be:
  // 0/8 "this network" and 127/8 loopback land on the host (RFC 1122
  // §3.2.1.3); 169.254/16 is link-local (RFC 3927), home of the
  // 169.254.169.254 metadata service; 224/4 multicast; 240/4 reserved and
  // the limited broadcast (RFC 1112 §4); the LAN itself and its gateway
  // (host.lan is the host's loopback).
  const char* NeverLearned(uint32_t ip) const;

  // Whether the DNS server may resolve `qname` (presentation form). Names
  // with characters outside letters, digits, '-' and '_', empty labels or
  // over-long labels are refused: they cannot be a listed name and an
  // escaped form must not sneak past the suffix match.
  bool AllowName(std::string_view qname) const;
  // Records the A records of an answer for an allowed qname; ignored when
  // the name is not allowed. Repeated answers extend, never shorten, access.
  void Learn(std::string_view qname, std::span<const uint32_t> ipv4s, uint32_t ttl_seconds,
             uint64_t now_ms);
  // Whether a new egress flow to `ip` (host byte order) is allowed.
  bool AllowIp(uint32_t ip, uint64_t now_ms) const;
  // Forgets learned addresses whose time has passed.
  void Expire(uint64_t now_ms);

  size_t learned_count() const { return learned_.size(); }
  const EgressAllowList& allow_list() const { return allow_; }

 private:
  void LearnOne(uint32_t ip, uint64_t deadline_ms, uint64_t now_ms);
  void Forget(uint32_t ip);
  void LogIgnored(std::string_view qname, uint32_t ip, const char* reason);

  EgressAllowList allow_;
  EgressLimits limits_;
  EgressLan lan_;
  // Names whose ignored answers were logged: once per name, bounded so a
  // guest querying many names cannot flood the log or grow memory.
  std::set<std::string, std::less<>> logged_names_;
  std::set<std::string, std::less<>> exact_;
  std::set<std::string, std::less<>> wildcard_suffixes_;  // "example.com" for *.example.com
  std::unordered_map<uint32_t, uint64_t> learned_;        // ip -> deadline (dead at >=)
  std::set<std::pair<uint64_t, uint32_t>> by_deadline_;
};

}  // namespace vk::net
