#include "net/firewall.h"

#include "net/egress_policy.h"

namespace vk::net {

Firewall::Firewall(RuleSet rules, ConntrackLimits limits)
    : rules_(std::move(rules)), conntrack_(limits) {}

Verdict Firewall::Evaluate(const FlowKey& key, Direction direction) const {
  for (size_t i = 0; i < rules_.rules.size(); ++i) {
    if (rules_.rules[i].Matches(key, direction)) {
      return {rules_.rules[i].action, VerdictReason::kRule, i};
    }
  }
  return {rules_.DefaultFor(direction), VerdictReason::kDefault, 0};
}

Verdict Firewall::Check(const FlowKey& key, Direction direction, uint64_t now_ms) {
  if (conntrack_.Track(key, direction, now_ms) != ConnMatch::kNone) {
    return {Action::kAllow, VerdictReason::kTracked, 0};
  }
  Verdict verdict = Evaluate(key, direction);
  if (!verdict.allowed()) return verdict;
  if (direction == Direction::kEgress && egress_policy_ != nullptr &&
      !egress_policy_->AllowIp(key.dst_ip, now_ms)) {
    // Reject, not deny: the client should fail at once, not retry for minutes.
    return {Action::kReject, VerdictReason::kEgressPolicy, 0};
  }
  // A packet that cannot open a connection (a stray FIN or RST) still passes
  // on the rules' say-so; it just creates no state.
  (void)conntrack_.Open(key, direction, now_ms);
  return verdict;
}

}  // namespace vk::net
