// DhcpLeases: which address each client gets. Addresses are sticky: a MAC
// keeps its address after its lease expires or it releases it, and only an
// exhausted pool reclaims the longest-expired one, so a VM that restarts
// (same MAC) gets the same address. Dynamic allocation hands out the lowest
// free address, so the first guest of a LAN is .2. Static leases reserve an
// address for a name (matched against the DHCP host name, option 12, or the
// client identifier, option 61) or for a MAC (then only that MAC gets it).
//
// Names (NAME.lan) belong to leases: a lease holds at most one name, the
// first live lease to ask for a name keeps it until that lease expires or is
// released, a later lease asking for it is refused (and keeps its own name,
// if any), and asking for a new name gives up the old one. A static lease's
// name is never handed to another client. So the name table never holds
// more entries than there are leases, and leases are bounded by the pool
// (one per MAC; a MAC that binds a new address gives up the old one).
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
  // Binds `ip` and, if the client sent a host name that is free for it,
  // names the lease after it. A client that sends no name keeps the one it
  // has (a renewal need not repeat it).
  void Bind(const DhcpClient& client, uint32_t ip, std::chrono::seconds lease);
  // Ends the lease and frees its name, but keeps the address remembered for
  // the MAC.
  void Release(const MacAddress& mac, uint32_t ip);

  std::optional<uint32_t> IpFor(const MacAddress& mac) const;
  std::optional<MacAddress> MacFor(uint32_t ip) const;
  // The MAC `ip` is bound to right now: a live lease, or a static lease
  // reserved for a MAC. Nullopt for free, expired and released addresses.
  std::optional<MacAddress> BoundMac(uint32_t ip) const;
  // Whether `name` may name the lease of `ip` (free, or already its own).
  bool NameFreeFor(std::string_view name, uint32_t ip) const;
  // The name of the live lease of `ip`, or empty.
  std::string NameOf(uint32_t ip) const;
  // The address of the live dynamic lease named `name` (static names are
  // registered with DNS up front, see StaticNames).
  std::optional<uint32_t> IpForName(std::string_view name) const;
  size_t NameCount() const { return names_.size(); }
  size_t LeaseCount() const { return by_ip_.size(); }

 private:
  struct Binding {
    MacAddress mac;
    TimePoint expires;
    std::string name;  // empty: unnamed; else names_[name] == this address
  };
  struct Static {
    std::string name;
    std::optional<MacAddress> mac;
  };

  std::optional<uint32_t> StaticFor(const DhcpClient& client) const;
  bool FreeFor(const DhcpClient& client, uint32_t ip) const;
  std::optional<uint32_t> Reclaim();
  void Forget(uint32_t ip);
  void Rename(uint32_t ip, Binding& binding, const std::string& name);
  bool Live(const Binding& binding) const { return binding.expires > clock_(); }

  uint32_t first_, last_;
  std::vector<uint32_t> reserved_;
  Clock clock_;
  std::map<uint32_t, Static> statics_;  // ip -> owner
  std::map<uint32_t, Binding> by_ip_;
  std::map<uint64_t, uint32_t> by_mac_;  // MacAddress::ToU64() -> ip
  // Lease names -> address; at most one per binding (so <= by_ip_.size()).
  std::map<std::string, uint32_t, std::less<>> names_;
};

}  // namespace vk::net
