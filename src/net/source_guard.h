// SourceGuard: what a VM port may claim to be on a shared LAN, checked by
// the switch for every frame a port sends (the gateway's port is trusted).
// The switch itself already keeps each MAC on the port that first used it;
// this adds the IPv4 layer:
//   - no source IP (IPv4 source, ARP sender) equal to the gateway's address:
//     a VM cannot answer for the gateway, its DNS or its DHCP server;
//   - no source IP bound by DHCP (a live lease, or a static lease for a MAC)
//     to a MAC that another port owns: a VM cannot take over a neighbour's
//     address, by IP or by (gratuitous) ARP, while that lease lives;
//   - no ARP sender MAC owned by another port (ARP poisoning);
//   - no DHCP server replies (UDP from port 67): a rogue DHCP server;
//   - no VLAN-tagged frames (802.1Q/802.1ad): the LAN has no VLANs, and a tag
//     would hide the IPv4 header from these checks.
// Malformed ARP and IPv4 are dropped (no peer could use them).
#pragma once

#include <cstdint>

#include "net/dhcp_leases.h"
#include "net/switch.h"

namespace vk::net {

class SourceGuard : public IngressGuard {
 public:
  // `lan` and `leases` are not owned and must outlive the guard; frames from
  // `trusted` (the gateway's port) are not checked.
  SourceGuard(const Switch& lan, const DhcpLeases& leases, PortId trusted, uint32_t gateway_ip)
      : lan_(lan), leases_(leases), trusted_(trusted), gateway_ip_(gateway_ip) {}

  bool Admit(PortId from, const EthernetFrame& frame) override;

 private:
  bool AdmitArp(PortId from, Bytes payload) const;
  bool AdmitIpv4(PortId from, Bytes payload) const;
  // Whether a frame from `from` may use `ip` as its source address.
  bool MayUseIp(PortId from, uint32_t ip) const;

  const Switch& lan_;
  const DhcpLeases& leases_;
  PortId trusted_;
  uint32_t gateway_ip_;
};

}  // namespace vk::net
