// Lan: one virtual LAN as `vk run --net` and `vk switch` run it: a Switch,
// the Gateway at .1 (ARP, DHCP, DNS with NAME.lan), egress through host
// sockets (libslirp), port forwards, and the DNS-based egress allowlist.
// Everything runs on one EventLoop thread; ports are FrameSinks.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/event_loop.h"
#include "base/result.h"
#include "net/egress_policy.h"
#include "net/firewall.h"
#include "net/gateway.h"
#include "net/switch.h"

namespace vk::net {

struct PortForward {
  bool udp = false;
  uint32_t host_ip = 0;  // host byte order; 0 = 127.0.0.1
  uint16_t host_port = 0;
  uint32_t guest_ip = 0;  // 0 = the LAN's first guest (.2)
  uint16_t guest_port = 0;
};

// A firewall rules file (ParseRules grammar), for --firewall.
Result<RuleSet> ReadRulesFile(const std::string& path);

// "[HOSTIP:]HOSTPORT:GUESTPORT[/udp]" (docker's -p).
Result<PortForward> ParsePortForward(std::string_view text);

struct LanOptions {
  GatewayConfig gateway;
  std::vector<PortForward> forwards;
  std::optional<EgressAllowList> egress_allow;  // set: only these names/CIDRs
  // Stateful rules for traffic between the LAN and the outside (replies of
  // allowed flows pass; forwarded ports are allowed in automatically).
  std::optional<RuleSet> firewall;
  // Static leases by DHCP hostname ("db" -> .10): fleets and `vk switch --hosts`.
  std::vector<std::pair<std::string, uint32_t>> hosts;
  std::string resolv_conf = "/etc/resolv.conf";  // upstream resolvers
  // "IP:PORT" of one upstream resolver instead (VIRTKIT_DNS_UPSTREAM: hosts
  // whose resolver is not in resolv.conf, and tests with their own server).
  std::string dns_upstream;
};

class Lan {
 public:
  static Result<std::unique_ptr<Lan>> Create(EventLoop& loop, LanOptions options);
  ~Lan();

  // A new switch port delivering to `egress` (not owned, outlives the port);
  // returns the sink that frames from that side go into.
  FrameSink* AddPort(FrameSink* egress, std::string name);
  void RemovePort(FrameSink* ingress);
  // A fixed lease: a VM's MAC gets `ip` and its name resolves as NAME.lan.
  Result<void> AddStaticLease(const MacAddress& mac, uint32_t ip, std::string name);

  Switch& lan_switch() { return switch_; }
  Gateway& gateway() { return *gateway_; }
  uint32_t FirstGuestIp() const;

 private:
  class PortSink;
  Lan(EventLoop& loop, LanOptions options);
  Result<void> Start();
  void StartFirewall();
  Verdict Check(const Ipv4Packet& ip, Direction direction) const;

  EventLoop& loop_;
  LanOptions options_;
  Switch switch_;
  std::unique_ptr<DnsUpstream> upstream_;
  std::unique_ptr<Gateway> gateway_;
  std::unique_ptr<EgressPolicy> policy_;
  std::unique_ptr<Firewall> firewall_;
  std::unique_ptr<EgressHandler> slirp_;
  std::vector<std::unique_ptr<PortSink>> ports_;
};

}  // namespace vk::net
