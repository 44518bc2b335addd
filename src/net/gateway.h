// Gateway: the virtual host every LAN has at .1 (192.168.127.1,
// 5a:94:ef:e4:0c:dd by default). It is a switch port like a VM: the switch
// delivers frames to it (FrameSink) and it sends through the switch. It
// answers ARP and ping for its address, serves DHCP (67/udp) and DNS
// (53/udp), and hands every other packet routed through it (other ports on
// its address, other destinations via its MAC) to an EgressHandler. Egress
// replies come back through SendIpPacket. Runs on the switch's loop thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/frame_sink.h"
#include "net/checksum.h"
#include "net/dhcp_server.h"
#include "net/dns_server.h"
#include "net/ethernet.h"
#include "net/frame_clock.h"
#include "net/ipv4.h"
#include "net/source_guard.h"
#include "net/switch.h"

namespace vk::net {

struct GatewayConfig {
  uint32_t network = Ipv4(192, 168, 127, 0);
  unsigned prefix_length = 24;
  uint32_t ip = Ipv4(192, 168, 127, 1);
  MacAddress mac{{0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xdd}};
  uint16_t mtu = 1500;
  std::string domain = "lan";
  std::chrono::seconds lease_time{3600};
  // kSkip when the virtio-net device accepts checksum-offloaded packets.
  L4Checksum guest_checksums = L4Checksum::kVerify;
};

// Receives IPv4 packets leaving the LAN (implemented over libslirp). The span
// is only valid during the call.
class EgressHandler {
 public:
  virtual ~EgressHandler() = default;
  virtual void OnIpPacket(Bytes ip_packet) = 0;
};

class Gateway : public FrameSink {
 public:
  // Adds itself to `lan` (which must outlive it); `upstream` (not owned, may
  // be null) resolves non-local names.
  Gateway(Switch& lan, GatewayConfig config, DnsUpstream* upstream, Clock clock = SteadyClock());
  ~Gateway() override;
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Frames the switch sends to the gateway's port.
  bool Deliver(Bytes frame) override;

  // `handler` is not owned; null drops egress traffic.
  void SetEgressHandler(EgressHandler* handler) { egress_ = handler; }
  // The firewall's two sides, given the packet already parsed; unset passes
  // everything. egress_filter decides each packet before the EgressHandler
  // sees it; ingress_filter each packet SendIpPacket would deliver.
  std::function<bool(const Ipv4Packet& ip)> egress_filter;
  std::function<bool(const Ipv4Packet& ip)> ingress_filter;
  // Sends a packet from the outside into the LAN: validates the header,
  // resolves the destination MAC (ARP cache, DHCP leases, else ARP request
  // with the packet queued) and frames it. False if it was dropped.
  // kBypass skips ingress_filter: for the firewall's own answers (rejections).
  enum class IngressCheck { kFilter, kBypass };
  bool SendIpPacket(Bytes ip_packet, IngressCheck check = IngressCheck::kFilter);

  DhcpServer& dhcp() { return dhcp_; }
  DnsServer& dns() { return dns_; }
  PortId port() const { return port_; }
  const GatewayConfig& config() const { return config_; }

 private:
  void OnArp(const EthernetFrame& frame);
  void OnIpv4(const EthernetFrame& frame);
  void OnLocal(const EthernetFrame& frame, const Ipv4Packet& ip);
  void OnBroadcast(const EthernetFrame& frame, const Ipv4Packet& ip);
  void OnIcmp(const EthernetFrame& frame, const Ipv4Packet& ip);
  void OnDhcp(const EthernetFrame& frame, Bytes payload);
  void OnDns(const EthernetFrame& frame, const Ipv4Packet& ip, uint16_t src_port, Bytes query);
  void ToEgress(const Ipv4Packet& ip);
  void Learn(uint32_t ip, const MacAddress& mac);
  bool Believe(uint32_t ip, const MacAddress& mac) const;
  void SendFrame(const MacAddress& dst, uint16_t ether_type, Bytes payload);
  void SendArpRequest(uint32_t ip);
  bool OnSubnet(uint32_t ip) const { return (ip & netmask_) == config_.network; }
  bool IsBroadcast(uint32_t ip) const {
    return ip == kIpv4Broadcast || ip == (config_.network | ~netmask_);
  }

  Switch& lan_;
  GatewayConfig config_;
  uint32_t netmask_;
  PortId port_ = 0;
  DhcpServer dhcp_;
  DnsServer dns_;
  EgressHandler* egress_ = nullptr;  // not owned
  std::map<uint32_t, MacAddress> arp_cache_;
  // Packets waiting for an ARP reply; bounded so an egress flood to absent
  // addresses cannot grow memory.
  std::deque<std::pair<uint32_t, std::vector<uint8_t>>> awaiting_arp_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::unique_ptr<SourceGuard> guard_;  // installed in lan_ while we live
};

}  // namespace vk::net
