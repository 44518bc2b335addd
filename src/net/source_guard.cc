#include "net/source_guard.h"

#include "net/arp.h"
#include "net/dhcp_message.h"
#include "net/ipv4.h"

namespace vk::net {
namespace {

// IEEE 802.1Q customer tag and 802.1ad service tag.
constexpr uint16_t kEtherTypeVlan = 0x8100;
constexpr uint16_t kEtherTypeQinQ = 0x88a8;

}  // namespace

bool SourceGuard::Admit(PortId from, const EthernetFrame& frame) {
  if (from == trusted_) return true;
  switch (frame.header.ether_type) {
    case kEtherTypeArp: return AdmitArp(from, frame.payload);
    case kEtherTypeIpv4: return AdmitIpv4(from, frame.payload);
    case kEtherTypeVlan:
    case kEtherTypeQinQ: return false;
    default: return true;  // IPv6 and others: between peers, never served here
  }
}

bool SourceGuard::AdmitArp(PortId from, Bytes payload) const {
  auto arp = ParseArp(payload);
  if (!arp.ok()) return false;
  // Peers merge the sender pair into their caches (RFC 826): it must be ours.
  auto mac_owner = lan_.Owner(arp->sender_mac);
  if (mac_owner && *mac_owner != from) return false;
  return arp->sender_ip == 0 || MayUseIp(from, arp->sender_ip);  // 0: RFC 5227 probe
}

bool SourceGuard::AdmitIpv4(PortId from, Bytes payload) const {
  auto ip = ParseIpv4Packet(payload);
  if (!ip.ok() || !MayUseIp(from, ip->header.src)) return false;
  // Only the gateway serves DHCP (RFC 2131 §4.1: servers send from port 67);
  // a first fragment is enough to see the port.
  bool udp_head = ip->header.protocol == kIpProtoUdp && ip->header.fragment_offset() == 0;
  return !(udp_head && ip->payload.size() >= 2 && Load16(ip->payload, 0) == kDhcpServerPort);
}

bool SourceGuard::MayUseIp(PortId from, uint32_t ip) const {
  if (ip == gateway_ip_) return false;
  auto bound = leases_.BoundMac(ip);
  if (!bound) return true;  // nobody holds it (0.0.0.0 while in DHCP INIT, too)
  return lan_.Owner(*bound) == from;
}

}  // namespace vk::net
