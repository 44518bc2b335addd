// The stateful firewall between a VM's switch port and the outside world.
// Each IPv4 packet's FlowKey goes through Check:
//   1. a packet of a tracked connection (either way, see conntrack.h) is
//      allowed without consulting the rules: replies to allowed flows pass;
//   2. otherwise the first matching rule for the packet's direction decides,
//      else that direction's default (firewall_rule.h);
//   3. an allowed new egress flow must also reach an address the egress
//      policy allows, if one is set; otherwise it is rejected;
//   4. an allowed new flow is tracked.
// Traffic to the VMM's own services (DHCP, DNS) is answered by the switch and
// never reaches Check. All inputs are untrusted guest or network data; Check
// never fails, it only decides.
#pragma once

#include <cstddef>
#include <cstdint>

#include "net/conntrack.h"
#include "net/firewall_rule.h"
#include "net/firewall_types.h"

namespace vk::net {

class EgressPolicy;

enum class VerdictReason : uint8_t {
  kTracked,       // part of a connection already allowed
  kRule,          // rule_index matched
  kDefault,       // no rule matched
  kEgressPolicy,  // rules allowed it, the egress allow list did not
};

struct Verdict {
  Action action = Action::kDeny;
  VerdictReason reason = VerdictReason::kDefault;
  size_t rule_index = 0;  // meaningful for kRule only

  bool allowed() const { return action == Action::kAllow; }
  friend bool operator==(const Verdict&, const Verdict&) = default;
};

class Firewall {
 public:
  explicit Firewall(RuleSet rules, ConntrackLimits limits = {});

  // Non-owning; `policy` must outlive this firewall. nullptr removes it.
  void SetEgressPolicy(const EgressPolicy* policy) { egress_policy_ = policy; }

  // Decides one packet and updates connection state. now_ms is a monotonic
  // clock in milliseconds (injected so tests control time).
  Verdict Check(const FlowKey& key, Direction direction, uint64_t now_ms);
  // The stateless rule decision alone (step 2), for tests and diagnostics.
  Verdict Evaluate(const FlowKey& key, Direction direction) const;

  const RuleSet& rules() const { return rules_; }
  const Conntrack& conntrack() const { return conntrack_; }

 private:
  RuleSet rules_;
  Conntrack conntrack_;
  const EgressPolicy* egress_policy_ = nullptr;  // not owned
};

}  // namespace vk::net
