#include "net/egress_policy.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/log.h"

namespace vk::net {
namespace {

constexpr size_t kMaxLoggedNames = 64;

constexpr size_t kMaxNameLength = 253;  // RFC 1035 §2.3.4, presentation form
constexpr size_t kMaxLabelLength = 63;

bool IsLabelChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Lowercases and strips one trailing dot; the reason on failure.
Result<std::string> NormalizeName(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty()) return Error("empty name");
  if (name.size() > kMaxNameLength) return Error(fmt::format("over {} characters", kMaxNameLength));
  std::string normal;
  normal.reserve(name.size());
  size_t label_length = 0;
  for (char c : name) {
    if (c == '.') {
      if (label_length == 0) return Error("empty label");
      label_length = 0;
    } else if (!IsLabelChar(c)) {
      return Error(fmt::format("invalid character '{}'", c));
    } else if (++label_length > kMaxLabelLength) {
      return Error(fmt::format("label over {} characters", kMaxLabelLength));
    }
    normal += Lower(c);
  }
  if (label_length == 0) return Error("empty label");
  return normal;
}

// Only digits, dots and a slash: meant as an address, so address errors
// ("1.2.3.4.5") are reported as such rather than as a bad name.
bool LooksLikeAddress(std::string_view entry) {
  return entry.find_first_not_of("0123456789./") == std::string_view::npos;
}

Result<std::string> ParsePatternBody(std::string_view entry) {
  std::string_view domain = entry;
  bool wildcard = domain.starts_with("*.");
  if (wildcard) domain.remove_prefix(2);
  if (domain.find('*') != std::string_view::npos || entry == "*") {
    return Error("\"*\" is only allowed as the whole first label, as in *.example.com");
  }
  std::string normal = VK_TRY(NormalizeName(domain));
  return wildcard ? "*." + normal : normal;
}

std::string_view Trim(std::string_view text) {
  size_t start = text.find_first_not_of(" \t");
  if (start == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(" \t");
  return text.substr(start, end - start + 1);
}

Result<void> ParseEntry(std::string_view entry, EgressAllowList& list) {
  if (entry.empty()) return Error("empty entry (stray comma?)");
  if (LooksLikeAddress(entry)) {
    list.cidrs.push_back(VK_TRY(ParseCidr(entry)));
    return Ok();
  }
  auto pattern = ParsePatternBody(entry);
  if (!pattern.ok())
    return std::move(pattern).error().WithContext(fmt::format("bad name \"{}\"", entry));
  list.names.push_back(std::move(*pattern));
  return Ok();
}

}  // namespace

Result<EgressAllowList> ParseEgressAllow(std::string_view text) {
  EgressAllowList list;
  if (Trim(text).empty()) return list;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    VK_TRY(ParseEntry(Trim(text.substr(start, comma - start)), list));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return list;
}

EgressPolicy::EgressPolicy(EgressAllowList allow, EgressLimits limits, EgressLan lan)
    : allow_(std::move(allow)), limits_(limits), lan_(lan) {
  for (const std::string& name : allow_.names) {
    if (name.starts_with("*.")) {
      wildcard_suffixes_.insert(name.substr(2));
    } else {
      exact_.insert(name);
    }
  }
}

bool EgressPolicy::AllowName(std::string_view qname) const {
  auto normal = NormalizeName(qname);
  if (!normal.ok()) return false;
  std::string_view name = *normal;
  if (exact_.contains(name)) return true;
  // Every proper suffix starting after a dot; the label before it is
  // non-empty (NormalizeName), so the apex itself never matches a wildcard.
  for (size_t dot = name.find('.'); dot != std::string_view::npos; dot = name.find('.', dot + 1)) {
    if (wildcard_suffixes_.contains(name.substr(dot + 1))) return true;
  }
  return false;
}

void EgressPolicy::Learn(std::string_view qname, std::span<const uint32_t> ipv4s,
                         uint32_t ttl_seconds, uint64_t now_ms) {
  if (limits_.max_learned == 0 || !AllowName(qname)) return;
  uint64_t ttl_ms =
      std::clamp(uint64_t{ttl_seconds} * 1000, limits_.min_ttl_ms, limits_.max_ttl_ms);
  uint64_t deadline_ms = now_ms > UINT64_MAX - ttl_ms ? UINT64_MAX : now_ms + ttl_ms;
  for (uint32_t ip : ipv4s) {
    if (const char* reason = NeverLearned(ip)) {
      LogIgnored(qname, ip, reason);
    } else {
      LearnOne(ip, deadline_ms, now_ms);
    }
  }
}

const char* EgressPolicy::NeverLearned(uint32_t ip) const {
  uint32_t top = ip >> 24;
  if (top == 0) return "\"this network\" (0/8)";
  if (top == 127) return "loopback (127/8)";
  if ((ip >> 16) == 0xA9FE) return "link-local (169.254/16)";
  if ((ip >> 28) == 0xE) return "multicast (224/4)";
  if ((ip >> 28) == 0xF) return "reserved or broadcast (240/4)";
  if (ip == lan_.gateway) return "the gateway (host.lan)";
  if (lan_.subnet.Contains(ip)) return "the LAN's own";
  return nullptr;
}

void EgressPolicy::LogIgnored(std::string_view qname, uint32_t ip, const char* reason) {
  if (logged_names_.size() >= kMaxLoggedNames || logged_names_.contains(qname)) return;
  logged_names_.emplace(qname);
  log::Warn(
      "egress allowlist: ignoring {} in the DNS answer for {}: {} addresses are never allowed "
      "by name{}",
      FormatIpv4(ip), qname, reason,
      logged_names_.size() == kMaxLoggedNames ? " (further names are not logged)" : "");
}

void EgressPolicy::LearnOne(uint32_t ip, uint64_t deadline_ms, uint64_t now_ms) {
  auto it = learned_.find(ip);
  if (it != learned_.end()) {
    if (it->second >= deadline_ms) return;
    Forget(ip);
  } else if (learned_.size() >= limits_.max_learned) {
    Expire(now_ms);
    if (learned_.size() >= limits_.max_learned) Forget(by_deadline_.begin()->second);
  }
  learned_.emplace(ip, deadline_ms);
  by_deadline_.emplace(deadline_ms, ip);
}

void EgressPolicy::Forget(uint32_t ip) {
  auto it = learned_.find(ip);
  by_deadline_.erase({it->second, ip});
  learned_.erase(it);
}

bool EgressPolicy::AllowIp(uint32_t ip, uint64_t now_ms) const {
  for (const Cidr& cidr : allow_.cidrs) {
    if (cidr.Contains(ip)) return true;
  }
  auto it = learned_.find(ip);
  return it != learned_.end() && now_ms < it->second;
}

void EgressPolicy::Expire(uint64_t now_ms) {
  while (!by_deadline_.empty() && by_deadline_.begin()->first <= now_ms) {
    learned_.erase(by_deadline_.begin()->second);
    by_deadline_.erase(by_deadline_.begin());
  }
}

}  // namespace vk::net
