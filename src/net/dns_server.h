// DnsServer: the resolver guests reach at gateway:53 (RFC 1035), over UDP
// and over TCP (one server for both, so the same policy and cache). It is
// authoritative for `<domain>` (default "lan"): NAME.lan for registered
// names (DHCP host names, static leases, fleet members), host.lan for the
// gateway, NXDOMAIN for other .lan names. Everything else goes through an
// egress name filter, then the cache, then a DnsUpstream.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/dns_cache.h"
#include "net/dns_message.h"
#include "net/dns_upstream.h"
#include "net/frame_clock.h"

namespace vk::net {

// How a query arrived: it bounds the response size. A TCP message may be as
// long as its 16-bit length prefix allows (RFC 1035 §4.2.2); UDP answers are
// cut to DnsServerConfig::max_response.
enum class DnsTransport { kUdp, kTcp };

inline constexpr size_t kDnsMaxTcpMessage = 65535;

struct DnsServerConfig {
  std::string domain = "lan";
  uint32_t host_ip = 0;  // host.<domain>: the gateway
  // Local answers change when leases do, so they are cached only briefly.
  uint32_t local_ttl = 5;
  // Largest response sent to a guest (UDP payload within one MTU-sized IP
  // packet); longer upstream answers go out truncated (TC) so the guest
  // retries over TCP (RFC 1035 §4.2.1).
  size_t max_response = 1500 - 28;
  // Forwarded queries in flight; bounds what one guest can make us hold.
  size_t max_in_flight = 256;
  DnsCacheOptions cache;
};

class DnsServer {
 public:
  using Reply = std::function<void(std::vector<uint8_t> response)>;

  // `upstream` is not owned and may be null (non-local names: SERVFAIL).
  DnsServer(DnsServerConfig config, DnsUpstream* upstream, Clock clock = SteadyClock());
  ~DnsServer();

  // NAME is a single label; it answers as NAME.<domain>. Registered names
  // (static leases, fleet members) come before lease_names.
  void RegisterName(std::string_view name, uint32_t ip);
  void UnregisterName(std::string_view name);
  std::optional<uint32_t> LookupName(std::string_view name) const;

  // Answers `query` through `reply`, now (local, cached, refused) or later
  // (forwarded). Malformed queries get FORMERR when their header is intact,
  // and no reply otherwise; responses are ignored (never reflected).
  void HandleQuery(Bytes query, Reply reply, DnsTransport transport = DnsTransport::kUdp);

  size_t in_flight() const { return in_flight_; }

  // Names of live DHCP leases (the gateway: DhcpLeases::IpForName); asked
  // at query time, so a name is gone as soon as its lease is.
  std::function<std::optional<uint32_t>(std::string_view label)> lease_names;
  // Egress policy: false denies the (non-local) name, answered NXDOMAIN.
  std::function<bool(std::string_view qname)> name_filter;
  // Learns the A records of allowed upstream answers (TTL = their minimum).
  std::function<void(std::string_view qname, const std::vector<uint32_t>& ips, uint32_t ttl)>
      on_answer;

 private:
  bool IsLocal(std::string_view name) const;
  std::vector<uint8_t> AnswerLocal(Bytes query, const DnsMessage& parsed) const;
  void Forward(Bytes query, const DnsMessage& parsed, Reply reply, DnsTransport transport);
  void OnUpstream(const DnsQuestion& question, Result<std::vector<uint8_t>> response,
                  std::vector<uint8_t> failure, Reply reply, DnsTransport transport);
  std::vector<uint8_t> Fit(std::vector<uint8_t> response, DnsTransport transport) const;

  DnsServerConfig config_;
  DnsUpstream* upstream_;  // not owned
  DnsCache cache_;
  std::map<std::string, uint32_t, std::less<>> names_;  // label -> ip
  size_t in_flight_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace vk::net
