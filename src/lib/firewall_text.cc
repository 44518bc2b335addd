#include "lib/firewall_text.h"

#include "lib/errors.h"
#include "net/firewall_rule.h"

namespace virtkit::internal {
namespace {

std::string_view ActionText(FirewallAction action) {
  switch (action) {
    case FirewallAction::kAllow: return "allow";
    case FirewallAction::kDeny: return "deny";
    case FirewallAction::kReject: return "reject";
  }
  return "deny";
}

std::string_view DirectionText(FirewallDirection direction) {
  return direction == FirewallDirection::kEgress ? "egress" : "ingress";
}

Result<std::string> RuleText(const FirewallRule& rule) {
  std::string line(ActionText(rule.action));
  line += " ";
  line += DirectionText(rule.direction);
  line += !rule.protocol ? " any" : *rule.protocol == Protocol::kTcp ? " tcp" : " udp";
  const bool any_port = rule.port_first == 0 && rule.port_last == 65535;
  if (rule.port_first > rule.port_last) {
    return Error(ErrorKind::kUsage, "ports " + std::to_string(rule.port_first) + "-" +
                                        std::to_string(rule.port_last) + " are reversed");
  }
  if (!any_port && !rule.protocol) {
    return Error(ErrorKind::kUsage, "a rule with ports needs a protocol (tcp or udp)");
  }
  const std::string address = rule.address.empty() ? "any" : rule.address;
  // The remote side is the destination of egress and the source of ingress;
  // "to" always precedes "port" so the port is the destination's.
  if (rule.direction == FirewallDirection::kEgress) {
    line += " to " + address;
  } else {
    line += " from " + address + " to any";
  }
  if (!any_port) {
    line += " port " + std::to_string(rule.port_first);
    if (rule.port_last != rule.port_first) line += "-" + std::to_string(rule.port_last);
  }
  return line;
}

}  // namespace

Result<std::string> FirewallText(const Network& network) {
  std::string text;
  for (size_t i = 0; i < network.firewall.size(); ++i) {
    auto line = RuleText(network.firewall[i]);
    if (!line) return line.error().Context("firewall rule " + std::to_string(i + 1));
    text += *line + "\n";
  }
  text += "default " + std::string(ActionText(network.egress_default)) + " egress\n";
  text += "default " + std::string(ActionText(network.ingress_default)) + " ingress\n";
  // The runtime's parser has the last word (addresses, limits).
  auto parsed = vk::net::ParseRules(text);
  if (!parsed.ok()) {
    return Error(ErrorKind::kUsage, parsed.error().message()).Context("firewall");
  }
  return text;
}

std::string PublishText(const PortForward& port) {
  std::string text = port.host_address + ":" + std::to_string(port.host_port) + ":" +
                     std::to_string(port.guest_port);
  if (port.protocol == Protocol::kUdp) text += "/udp";
  return text;
}

}  // namespace virtkit::internal
