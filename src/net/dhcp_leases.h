// DhcpLeases: which address each client gets. Addresses are sticky: a MAC
// keeps its address after its lease expires or it releases it, and only an
// exhausted pool reclaims the longest-expired one, so a VM that restarts
// (same MAC) gets the same address. Dynamic allocation hands out the lowest
// free address, so the first guest of a LAN is .2. Static leases reserve an
// address for a name (matched against the DHCP host name, option 12, or the
// client identifier, option 61) or for a MAC.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "net/ethernet.h"
#include "net/frame_clock.h"

namespace vk::net {

// A DNS-safe host label from a DHCP host name: lowercased first label,
// [a-z0-9-]{1,63} not starting or ending with '-' (RFC 1123 §2.1).
std::optional<std::string> NormalizeHostLabel(std::string_view host_name);

struct DhcpClient {
  MacAddress mac;
  std::string host_name;  // normalized, or empty
  std::string client_id;  // option 61 bytes after the type byte, or empty
};

class DhcpLeases {
 public:
  // Dynamic pool [first, last]; `reserved` addresses (gateway) never leased.
  DhcpLeases(uint32_t first, uint32_t last, std::vector<uint32_t> reserved, Clock clock);

  Result<void> AddStatic(std::string name, std::optional<MacAddress> mac, uint32_t ip);
  // Static leases by name, for DNS registration up front.
  std::vector<std::pair<std::string, uint32_t>> StaticNames() const;

  // The address to offer: static > current binding > `requested` if free >
  // lowest free > reclaimed. Nullopt when the pool is exhausted.
  std::optional<uint32_t> Choose(const DhcpClient& client, std::optional<uint32_t> requested);
  // Whether `ip` may be (re)bound to the client (RFC 2131 §4.3.2 checks).
  bool MayBind(const DhcpClient& client, uint32_t ip);
  void Bind(const DhcpClient& client, uint32_t ip, std::chrono::seconds lease);
  // Ends the lease but keeps the address remembered for the MAC.
  void Release(const MacAddress& mac, uint32_t ip);

  std::optional<uint32_t> IpFor(const MacAddress& mac) const;
  std::optional<MacAddress> MacFor(uint32_t ip) const;

 private:
  struct Binding {
    MacAddress mac;
    TimePoint expires;
  };
  struct Static {
    std::string name;
    std::optional<MacAddress> mac;
  };

  std::optional<uint32_t> StaticFor(const DhcpClient& client) const;
  bool FreeFor(const DhcpClient& client, uint32_t ip) const;
  std::optional<uint32_t> Reclaim();
  void Forget(uint32_t ip);

  uint32_t first_, last_;
  std::vector<uint32_t> reserved_;
  Clock clock_;
  std::map<uint32_t, Static> statics_;  // ip -> owner
  std::map<uint32_t, Binding> by_ip_;
  std::map<uint64_t, uint32_t> by_mac_;  // MacAddress::ToU64() -> ip
};

}  // namespace vk::net
