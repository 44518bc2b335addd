// Firewall rules and their text syntax, shared by the CLI (--firewall) and
// fleet files. One rule per line:
//
//   line      := rule | default | comment | blank
//   rule      := action direction proto [from] [to] [port]
//   from      := "from" addr [ "port" ports ]      source; its port is the source port
//   to        := "to" addr                         destination
//   port      := "port" ports                      destination port
//   default   := "default" action direction        what happens when no rule matches
//   action    := "allow" | "deny" | "reject"
//   direction := "egress" | "ingress"              egress = guest -> outside
//   proto     := "any" | "tcp" | "udp" | "icmp"
//   addr      := "any" | a.b.c.d | a.b.c.d/len     strict, see cidr.h
//   ports     := N | N-M                           0 <= N <= M <= 65535
//   comment   := "#" to end of line (also after a rule)
//
// Keywords are lowercase; tokens are separated by spaces or tabs. As in pf,
// "port" right after a "from" address is the SOURCE port; every other
// "port" is the destination port. Ports need tcp or udp. Examples:
//   allow egress tcp to 10.0.0.0/8 port 443
//   deny ingress udp from 0.0.0.0/0 port 53-60     (source ports 53-60)
//   allow ingress tcp port 22                      (destination port 22)
//   reject egress any to 169.254.169.254
//   default deny egress
//
// Rules are checked in order and the first match wins; without a match the
// direction's default applies (allow egress, deny ingress unless set).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "net/cidr.h"
#include "net/firewall_types.h"

namespace vk::net {

// Rules are scanned linearly for every new flow, so this bounds the per-packet
// cost a (possibly shared, fleet-distributed) rule file can impose.
inline constexpr size_t kMaxRules = 4096;

struct PortRange {
  uint16_t first = 0;
  uint16_t last = 65535;

  bool Contains(uint16_t port) const { return port >= first && port <= last; }
  bool IsAny() const { return first == 0 && last == 65535; }
  friend bool operator==(const PortRange&, const PortRange&) = default;
};

struct Rule {
  Action action = Action::kDeny;
  Direction direction = Direction::kEgress;
  std::optional<IpProto> proto;  // nullopt = any
  Cidr src;
  PortRange src_ports;
  Cidr dst;
  PortRange dst_ports;

  bool Matches(const FlowKey& key, Direction packet_direction) const;
  // Canonical text; ParseRule(ToString()) gives back an equal rule.
  std::string ToString() const;
  friend bool operator==(const Rule&, const Rule&) = default;
};

struct RuleSet {
  std::vector<Rule> rules;
  Action default_egress = Action::kAllow;
  Action default_ingress = Action::kDeny;

  Action DefaultFor(Direction direction) const {
    return direction == Direction::kEgress ? default_egress : default_ingress;
  }
};

// One rule (no "default", no comment). Errors name the offending token.
Result<Rule> ParseRule(std::string_view text);
// A whole file or CLI list; errors are prefixed "line N: ".
Result<RuleSet> ParseRules(std::string_view text);

}  // namespace vk::net
