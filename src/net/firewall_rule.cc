#include "net/firewall_rule.h"

#include <fmt/format.h>

#include <array>

namespace vk::net {
namespace {

std::string_view StripComment(std::string_view line) {
  size_t hash = line.find('#');
  return hash == std::string_view::npos ? line : line.substr(0, hash);
}

std::vector<std::string_view> Tokenize(std::string_view text) {
  std::vector<std::string_view> tokens;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t start = text.find_first_not_of(" \t\r", pos);
    if (start == std::string_view::npos) break;
    size_t end = text.find_first_of(" \t\r", start);
    if (end == std::string_view::npos) end = text.size();
    tokens.push_back(text.substr(start, end - start));
    pos = end;
  }
  return tokens;
}

Result<Action> ParseAction(std::string_view token) {
  if (token == "allow") return Action::kAllow;
  if (token == "deny") return Action::kDeny;
  if (token == "reject") return Action::kReject;
  return Error(fmt::format("unknown action \"{}\" (want allow, deny or reject)", token));
}

Result<Direction> ParseDirection(std::string_view token) {
  if (token == "egress") return Direction::kEgress;
  if (token == "ingress") return Direction::kIngress;
  return Error(fmt::format("unknown direction \"{}\" (want egress or ingress)", token));
}

Result<std::optional<IpProto>> ParseProto(std::string_view token) {
  if (token == "any") return std::optional<IpProto>();
  if (token == "tcp") return std::optional<IpProto>(IpProto::kTcp);
  if (token == "udp") return std::optional<IpProto>(IpProto::kUdp);
  if (token == "icmp") return std::optional<IpProto>(IpProto::kIcmp);
  return Error(fmt::format("unknown protocol \"{}\" (want any, tcp, udp or icmp)", token));
}

Result<Cidr> ParseAddress(std::string_view token) {
  if (token == "any") return Cidr::Any();
  return ParseCidr(token);
}

// Same strictness as addresses: decimal, no sign, no leading zero.
Result<uint16_t> ParsePort(std::string_view text) {
  bool digits = !text.empty() && text.size() <= 5 &&
                text.find_first_not_of("0123456789") == std::string_view::npos;
  if (!digits) return Error(fmt::format("port \"{}\" is not a decimal number", text));
  if (text.size() > 1 && text[0] == '0') {
    return Error(fmt::format("port \"{}\" has a leading zero", text));
  }
  uint32_t value = 0;
  for (char c : text) value = value * 10 + static_cast<uint32_t>(c - '0');
  if (value > 65535) return Error(fmt::format("port {} is over 65535", value));
  return static_cast<uint16_t>(value);
}

Result<PortRange> ParsePortRangeBody(std::string_view text) {
  size_t dash = text.find('-');
  uint16_t first = VK_TRY(ParsePort(text.substr(0, dash)));
  if (dash == std::string_view::npos) return PortRange{first, first};
  uint16_t last = VK_TRY(ParsePort(text.substr(dash + 1)));
  if (first > last) return Error("start is above end");
  return PortRange{first, last};
}

Result<PortRange> ParsePortRange(std::string_view text) {
  return ParsePortRangeBody(text).Context(fmt::format("bad port range \"{}\"", text));
}

// Walks the tokens of one rule in grammar order (see firewall_rule.h).
class RuleParser {
 public:
  explicit RuleParser(std::vector<std::string_view> tokens) : tokens_(std::move(tokens)) {}

  Result<Rule> Parse() {
    if (tokens_.empty()) return Error("empty rule");
    if (tokens_[0] == "default") {
      return Error("\"default\" sets a policy, it is not a rule (only valid in a rule list)");
    }
    Rule rule;
    rule.action = VK_TRY(ParseAction(Next()));
    std::string_view token = VK_TRY(Expect("direction"));
    rule.direction = VK_TRY(ParseDirection(token));
    token = VK_TRY(Expect("protocol"));
    rule.proto = VK_TRY(ParseProto(token));
    if (Accept("from")) {
      token = VK_TRY(Expect("address"));
      rule.src = VK_TRY(ParseAddress(token));
      if (Accept("port")) rule.src_ports = VK_TRY(ParsePortsAfterKeyword());
    }
    if (Accept("to")) {
      token = VK_TRY(Expect("address"));
      rule.dst = VK_TRY(ParseAddress(token));
    }
    if (Accept("port")) rule.dst_ports = VK_TRY(ParsePortsAfterKeyword());
    VK_TRY(CheckEnd());
    VK_TRY(CheckPortsHaveProto(rule));
    return rule;
  }

 private:
  std::string_view Next() { return tokens_[pos_++]; }

  bool Accept(std::string_view keyword) {
    if (pos_ >= tokens_.size() || tokens_[pos_] != keyword) return false;
    ++pos_;
    return true;
  }

  Result<std::string_view> Expect(std::string_view what) {
    if (pos_ >= tokens_.size()) {
      return Error(fmt::format("missing {} after \"{}\"", what, tokens_[pos_ - 1]));
    }
    return Next();
  }

  Result<PortRange> ParsePortsAfterKeyword() {
    std::string_view token = VK_TRY(Expect("port"));
    return ParsePortRange(token);
  }

  Result<void> CheckEnd() const {
    if (pos_ >= tokens_.size()) return Ok();
    std::string_view token = tokens_[pos_];
    if (token == "from" || token == "to" || token == "port") {
      return Error(fmt::format(
          "\"{}\" is repeated or out of order (want: from ADDR [port P] to ADDR [port P])", token));
    }
    return Error(fmt::format("unexpected \"{}\" after \"{}\"", token, tokens_[pos_ - 1]));
  }

  static Result<void> CheckPortsHaveProto(const Rule& rule) {
    bool udp_or_tcp = rule.proto == IpProto::kTcp || rule.proto == IpProto::kUdp;
    if (udp_or_tcp || (rule.src_ports.IsAny() && rule.dst_ports.IsAny())) return Ok();
    return Error(fmt::format("ports need tcp or udp, not {}", rule.proto ? "icmp" : "any"));
  }

  std::vector<std::string_view> tokens_;
  size_t pos_ = 0;
};

std::string FormatPorts(const PortRange& ports) {
  if (ports.first == ports.last) return fmt::format(" port {}", ports.first);
  return fmt::format(" port {}-{}", ports.first, ports.last);
}

std::string_view ProtoName(std::optional<IpProto> proto) {
  if (!proto) return "any";
  switch (*proto) {
    case IpProto::kTcp: return "tcp";
    case IpProto::kUdp: return "udp";
    case IpProto::kIcmp: return "icmp";
  }
  return "any";
}

// "default deny ingress": the policy when no rule matches.
Result<void> ParseDefault(std::string_view line, RuleSet& set, std::array<bool, 2>& seen) {
  std::vector<std::string_view> tokens = Tokenize(line);
  if (tokens.size() != 3)
    return Error("want \"default ACTION DIRECTION\", e.g. default deny egress");
  Action action = VK_TRY(ParseAction(tokens[1]));
  Direction direction = VK_TRY(ParseDirection(tokens[2]));
  bool& already = seen[static_cast<size_t>(direction)];
  if (already) return Error(fmt::format("default for {} given twice", ToString(direction)));
  already = true;
  (direction == Direction::kEgress ? set.default_egress : set.default_ingress) = action;
  return Ok();
}

Result<void> ParseLine(std::string_view line, RuleSet& set, std::array<bool, 2>& seen_default) {
  std::vector<std::string_view> tokens = Tokenize(line);
  if (tokens.empty()) return Ok();
  if (tokens[0] == "default") return ParseDefault(line, set, seen_default);
  if (set.rules.size() >= kMaxRules) return Error(fmt::format("over {} rules", kMaxRules));
  set.rules.push_back(VK_TRY(RuleParser(std::move(tokens)).Parse()));
  return Ok();
}

}  // namespace

bool Rule::Matches(const FlowKey& key, Direction packet_direction) const {
  if (packet_direction != direction) return false;
  if (proto && *proto != key.proto) return false;
  if (!src.Contains(key.src_ip) || !dst.Contains(key.dst_ip)) return false;
  // Port ranges are only ever set on tcp/udp rules (the parser insists), and
  // ICMP "ports" are echo identifiers, never meant to match a port range.
  if (key.proto == IpProto::kIcmp) return true;
  return src_ports.Contains(key.src_port) && dst_ports.Contains(key.dst_port);
}

std::string Rule::ToString() const {
  std::string text = fmt::format("{} {} {}", vk::net::ToString(action),
                                 vk::net::ToString(direction), ProtoName(proto));
  if (!src.IsAny() || !src_ports.IsAny()) {
    text += " from " + (src.IsAny() ? std::string("any") : src.ToString());
    if (!src_ports.IsAny()) text += FormatPorts(src_ports);
  }
  if (!dst.IsAny()) text += " to " + dst.ToString();
  if (!dst_ports.IsAny()) text += FormatPorts(dst_ports);
  return text;
}

Result<Rule> ParseRule(std::string_view text) {
  return RuleParser(Tokenize(StripComment(text))).Parse();
}

Result<RuleSet> ParseRules(std::string_view text) {
  RuleSet set;
  std::array<bool, 2> seen_default{};
  size_t line_number = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    ++line_number;
    std::string_view line = StripComment(text.substr(start, end - start));
    VK_TRY_CTX(ParseLine(line, set, seen_default), fmt::format("line {}", line_number));
    start = end + 1;
  }
  return set;
}

}  // namespace vk::net
