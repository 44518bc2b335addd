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
    // A lease reserved for a MAC is that MAC's alone: matching its name too
    // would let any guest that asks for the name take the address first.
    bool match = owner.mac ? *owner.mac == client.mac
                           : !owner.name.empty() &&
                                 (owner.name == client.host_name || owner.name == client.client_id);
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
  // One lease per MAC: moving to another address gives up the old one.
  if (auto old = IpFor(client.mac); old && *old != ip) Forget(*old);
  if (auto it = by_ip_.find(ip); it != by_ip_.end() && !(it->second.mac == client.mac)) Forget(ip);
  Binding& binding = by_ip_[ip];
  binding.mac = client.mac;
  binding.expires = clock_() + lease;
  by_mac_[client.mac.ToU64()] = ip;
  if (!client.host_name.empty() && NameFreeFor(client.host_name, ip)) {
    Rename(ip, binding, client.host_name);
  }
}

void DhcpLeases::Release(const MacAddress& mac, uint32_t ip) {
  auto it = by_ip_.find(ip);
  if (it == by_ip_.end() || !(it->second.mac == mac)) return;
  it->second.expires = clock_();
  Rename(ip, it->second, "");
}

bool DhcpLeases::NameFreeFor(std::string_view name, uint32_t ip) const {
  for (const auto& [static_ip, owner] : statics_) {
    if (owner.name == name && static_ip != ip) return false;
  }
  auto it = names_.find(name);
  if (it == names_.end() || it->second == ip) return true;
  // Held by another address: free only once that lease has ended.
  auto holder = by_ip_.find(it->second);
  return holder == by_ip_.end() || !Live(holder->second);
}

// Gives `binding` (the lease of `ip`) the name `name` ("" for none),
// dropping its old name and taking `name` from an ended lease that had it.
void DhcpLeases::Rename(uint32_t ip, Binding& binding, const std::string& name) {
  if (!binding.name.empty()) names_.erase(binding.name);
  binding.name = name;
  if (name.empty()) return;
  auto [it, inserted] = names_.try_emplace(name, ip);
  if (!inserted) {
    if (auto holder = by_ip_.find(it->second); holder != by_ip_.end()) holder->second.name.clear();
    it->second = ip;
  }
}

std::string DhcpLeases::NameOf(uint32_t ip) const {
  auto it = by_ip_.find(ip);
  if (it == by_ip_.end() || !Live(it->second)) return "";
  return it->second.name;
}

std::optional<uint32_t> DhcpLeases::IpForName(std::string_view name) const {
  auto it = names_.find(name);
  if (it == names_.end()) return std::nullopt;
  auto holder = by_ip_.find(it->second);
  if (holder == by_ip_.end() || !Live(holder->second)) return std::nullopt;
  return it->second;
}

std::optional<MacAddress> DhcpLeases::BoundMac(uint32_t ip) const {
  if (auto it = by_ip_.find(ip); it != by_ip_.end() && Live(it->second)) return it->second.mac;
  if (auto it = statics_.find(ip); it != statics_.end()) return it->second.mac;
  return std::nullopt;
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
  if (!it->second.name.empty()) names_.erase(it->second.name);
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
