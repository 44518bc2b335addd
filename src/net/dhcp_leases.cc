#include "net/dhcp_leases.h"

#include <algorithm>

#include "net/ipv4.h"

namespace vk::net {

std::optional<std::string> NormalizeHostLabel(std::string_view host_name) {
  std::string label(host_name.substr(0, host_name.find('.')));
  if (label.empty() || label.size() > 63) return std::nullopt;
  for (char& c : label) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return std::nullopt;
  }
  if (label.front() == '-' || label.back() == '-') return std::nullopt;
  return label;
}

DhcpLeases::DhcpLeases(uint32_t first, uint32_t last, std::vector<uint32_t> reserved, Clock clock)
    : first_(first), last_(last), reserved_(std::move(reserved)), clock_(std::move(clock)) {}

Result<void> DhcpLeases::AddStatic(std::string name, std::optional<MacAddress> mac, uint32_t ip) {
  if (std::find(reserved_.begin(), reserved_.end(), ip) != reserved_.end()) {
    return Error("static lease " + FormatIpv4(ip) + ": address is reserved");
  }
  if (!name.empty()) {
    auto label = NormalizeHostLabel(name);
    if (!label || *label != name) return Error("static lease: bad host name '" + name + "'");
  }
  auto [it, inserted] = statics_.try_emplace(ip, Static{std::move(name), mac});
  if (!inserted) return Error("static lease " + FormatIpv4(ip) + ": address already assigned");
  return Ok();
}

std::vector<std::pair<std::string, uint32_t>> DhcpLeases::StaticNames() const {
  std::vector<std::pair<std::string, uint32_t>> names;
  for (const auto& [ip, owner] : statics_) {
    if (!owner.name.empty()) names.emplace_back(owner.name, ip);
  }
  return names;
}

std::optional<uint32_t> DhcpLeases::StaticFor(const DhcpClient& client) const {
  for (const auto& [ip, owner] : statics_) {
    bool match =
        (owner.mac && *owner.mac == client.mac) ||
        (!owner.name.empty() && (owner.name == client.host_name || owner.name == client.client_id));
    if (match && FreeFor(client, ip)) return ip;
  }
  return std::nullopt;
}

bool DhcpLeases::FreeFor(const DhcpClient& client, uint32_t ip) const {
  if (std::find(reserved_.begin(), reserved_.end(), ip) != reserved_.end()) return false;
  auto it = by_ip_.find(ip);
  if (it == by_ip_.end()) return true;
  // Another client's address is only taken over once its lease expired.
  return it->second.mac == client.mac || it->second.expires <= clock_();
}

std::optional<uint32_t> DhcpLeases::Choose(const DhcpClient& client,
                                           std::optional<uint32_t> requested) {
  if (auto ip = StaticFor(client)) return ip;
  if (auto ip = IpFor(client.mac); ip && !statics_.contains(*ip)) return ip;
  if (requested && *requested >= first_ && *requested <= last_ && !statics_.contains(*requested) &&
      !by_ip_.contains(*requested) && FreeFor(client, *requested)) {
    return requested;
  }
  for (uint32_t ip = first_; ip <= last_ && ip >= first_; ++ip) {
    if (!by_ip_.contains(ip) && !statics_.contains(ip) && FreeFor(client, ip)) return ip;
  }
  return Reclaim();
}

bool DhcpLeases::MayBind(const DhcpClient& client, uint32_t ip) {
  if (auto it = statics_.find(ip); it != statics_.end()) {
    return StaticFor(client) == ip;
  }
  if (ip < first_ || ip > last_) return false;
  return FreeFor(client, ip);
}

void DhcpLeases::Bind(const DhcpClient& client, uint32_t ip, std::chrono::seconds lease) {
  if (auto old = IpFor(client.mac); old && *old != ip) Forget(*old);
  if (auto it = by_ip_.find(ip); it != by_ip_.end() && !(it->second.mac == client.mac)) Forget(ip);
  by_ip_[ip] = Binding{client.mac, clock_() + lease};
  by_mac_[client.mac.ToU64()] = ip;
}

void DhcpLeases::Release(const MacAddress& mac, uint32_t ip) {
  auto it = by_ip_.find(ip);
  if (it != by_ip_.end() && it->second.mac == mac) it->second.expires = clock_();
}

std::optional<uint32_t> DhcpLeases::Reclaim() {
  TimePoint now = clock_();
  auto oldest = by_ip_.end();
  for (auto it = by_ip_.begin(); it != by_ip_.end(); ++it) {
    if (it->second.expires > now || statics_.contains(it->first)) continue;
    if (oldest == by_ip_.end() || it->second.expires < oldest->second.expires) oldest = it;
  }
  if (oldest == by_ip_.end()) return std::nullopt;
  uint32_t ip = oldest->first;
  Forget(ip);
  return ip;
}

void DhcpLeases::Forget(uint32_t ip) {
  auto it = by_ip_.find(ip);
  if (it == by_ip_.end()) return;
  by_mac_.erase(it->second.mac.ToU64());
  by_ip_.erase(it);
}

std::optional<uint32_t> DhcpLeases::IpFor(const MacAddress& mac) const {
  auto it = by_mac_.find(mac.ToU64());
  if (it == by_mac_.end()) return std::nullopt;
  return it->second;
}

std::optional<MacAddress> DhcpLeases::MacFor(uint32_t ip) const {
  auto it = by_ip_.find(ip);
  if (it == by_ip_.end()) return std::nullopt;
  return it->second.mac;
}

}  // namespace vk::net
