#include "net/gateway.h"

#include "net/arp.h"
#include "net/dns_message.h"
#include "net/ipv4_icmp.h"
#include "net/udp.h"

namespace vk::net {
namespace {

// Bounds the neighbour table (a /16 LAN could otherwise hold 65k entries).
constexpr size_t kMaxArpEntries = 1024;
constexpr size_t kMaxAwaitingArp = 64;

DhcpServerConfig DhcpConfigFor(const GatewayConfig& config) {
  uint32_t mask = PrefixMask(config.prefix_length);
  DhcpServerConfig dhcp;
  dhcp.server_ip = config.ip;
  dhcp.netmask = mask;
  dhcp.pool_first = config.network + 1;
  dhcp.pool_last = (config.network | ~mask) - 1;  // below the broadcast address
  dhcp.domain = config.domain;
  dhcp.lease_time = config.lease_time;
  dhcp.mtu = config.mtu;
  return dhcp;
}

DnsServerConfig DnsConfigFor(const GatewayConfig& config) {
  DnsServerConfig dns;
  dns.domain = config.domain;
  dns.host_ip = config.ip;
  dns.max_response = config.mtu - kIpv4MinHeader - kUdpHeaderSize;
  return dns;
}

}  // namespace

Gateway::Gateway(Switch& lan, GatewayConfig config, DnsUpstream* upstream, Clock clock)
    : lan_(lan),
      config_(std::move(config)),
      netmask_(PrefixMask(config_.prefix_length)),
      dhcp_(DhcpConfigFor(config_), clock),
      dns_(DnsConfigFor(config_), upstream, clock) {
  config_.network &= netmask_;
  dhcp_.on_name = [this](std::string_view name, uint32_t ip) { dns_.RegisterName(name, ip); };
  dns_.lease_names = [this](std::string_view name) { return dhcp_.leases().IpForName(name); };
  port_ = lan_.AddPort(this, "gateway");
  lan_.PinMac(port_, config_.mac);
  guard_ = std::make_unique<SourceGuard>(lan_, dhcp_.leases(), port_, config_.ip);
  lan_.SetIngressGuard(guard_.get());
}

Gateway::~Gateway() {
  *alive_ = false;
  lan_.SetIngressGuard(nullptr);
  lan_.RemovePort(port_);
}

bool Gateway::Deliver(Bytes frame) {
  auto ethernet = ParseEthernet(frame);
  if (!ethernet.ok()) return true;
  const MacAddress& dst = ethernet->header.dst;
  // Flooded unicast for other hosts and non-broadcast multicast are not ours.
  if (!(dst == config_.mac) && !dst.IsBroadcast()) return true;
  switch (ethernet->header.ether_type) {
    case kEtherTypeArp: OnArp(*ethernet); break;
    case kEtherTypeIpv4: OnIpv4(*ethernet); break;
    default: break;  // IPv6, VLAN-tagged, 802.3: not served
  }
  return true;  // consumed (or deliberately dropped): never back-pressure
}

void Gateway::OnArp(const EthernetFrame& frame) {
  auto arp = ParseArp(frame.payload);
  if (!arp.ok()) return;
  // RFC 826 "merge": refresh what we know about the sender, if believable.
  if (arp->sender_mac == frame.header.src) Learn(arp->sender_ip, arp->sender_mac);
  if (arp->operation != kArpRequest || arp->target_ip != config_.ip) return;
  ArpPacket reply{kArpReply, config_.mac, config_.ip, arp->sender_mac, arp->sender_ip};
  SendFrame(arp->sender_mac, kEtherTypeArp, BuildArp(reply));
}

void Gateway::OnIpv4(const EthernetFrame& frame) {
  auto ip = ParseIpv4Packet(frame.payload);
  if (!ip.ok()) return;
  uint32_t dst = ip->header.dst;
  if (IsBroadcast(dst)) return OnBroadcast(frame, *ip);
  if (!(frame.header.dst == config_.mac)) return;
  // Egress is only for our own guests' addresses: a spoofed source would
  // have replies routed to someone else.
  bool from_lan = OnSubnet(ip->header.src) && ip->header.src != config_.ip;
  if (dst == config_.ip) {
    if (!ip->header.is_fragment()) return OnLocal(frame, *ip);
    if (from_lan) ToEgress(*ip);  // fragments: opaque, reassembled by egress
    return;
  }
  // Guests reach LAN peers directly; only off-LAN destinations route here.
  if (from_lan && !OnSubnet(dst)) ToEgress(*ip);
}

void Gateway::OnBroadcast(const EthernetFrame& frame, const Ipv4Packet& ip) {
  auto udp = ParseUdp(ip, config_.guest_checksums);
  if (udp.ok() && udp->dst_port == kDhcpServerPort) OnDhcp(frame, udp->payload);
}

void Gateway::OnLocal(const EthernetFrame& frame, const Ipv4Packet& ip) {
  if (ip.header.protocol == kIpProtoIcmp) return OnIcmp(frame, ip);
  if (ip.header.protocol == kIpProtoUdp) {
    auto udp = ParseUdp(ip, config_.guest_checksums);
    if (!udp.ok()) return;
    if (udp->dst_port == kDhcpServerPort) return OnDhcp(frame, udp->payload);
    if (udp->dst_port == kDnsPort) return OnDns(frame, ip, udp->src_port, udp->payload);
  }
  if (OnSubnet(ip.header.src)) ToEgress(ip);  // other services on the gateway
}

void Gateway::OnIcmp(const EthernetFrame& frame, const Ipv4Packet& ip) {
  auto echo = ParseIcmpEcho(ip.payload);
  if (!echo.ok() || echo->type != kIcmpEchoRequest) return;
  auto reply = BuildIcmpEcho(kIcmpEchoReply, echo->id, echo->sequence, echo->data);
  SendFrame(frame.header.src, kEtherTypeIpv4,
            BuildIpv4Packet(kIpProtoIcmp, config_.ip, ip.header.src, reply));
}

void Gateway::OnDhcp(const EthernetFrame& frame, Bytes payload) {
  auto reply = dhcp_.Handle(payload, frame.header.src);
  if (!reply) return;
  if (reply->dst_ip != kIpv4Broadcast && reply->dst_ip != 0) Learn(reply->dst_ip, reply->dst_mac);
  SendFrame(
      reply->dst_mac, kEtherTypeIpv4,
      BuildUdpPacket(config_.ip, reply->dst_ip, kDhcpServerPort, kDhcpClientPort, reply->payload));
}

void Gateway::OnDns(const EthernetFrame& frame, const Ipv4Packet& ip, uint16_t src_port,
                    Bytes query) {
  MacAddress mac = frame.header.src;
  uint32_t client = ip.header.src;
  if (!OnSubnet(client)) return;
  dns_.HandleQuery(query, [this, mac, client, src_port](std::vector<uint8_t> response) {
    SendFrame(mac, kEtherTypeIpv4,
              BuildUdpPacket(config_.ip, client, kDnsPort, src_port, response));
  });
}

void Gateway::ToEgress(const Ipv4Packet& ip) {
  if (egress_filter && !egress_filter(ip)) return;
  if (egress_ != nullptr) egress_->OnIpPacket(ip.packet);
}

// RFC 826's merge would let any guest claim any address. An address leased
// (or statically assigned) to a MAC is believed only from that MAC. One
// nobody holds keeps its first claimant while that MAC's port is on the LAN
// (a guest with a hand-set address is found; a later claim cannot take it).
bool Gateway::Believe(uint32_t ip, const MacAddress& mac) const {
  if (auto bound = dhcp_.leases().BoundMac(ip)) return *bound == mac;
  auto cached = arp_cache_.find(ip);
  return cached == arp_cache_.end() || cached->second == mac || !lan_.Owner(cached->second);
}

void Gateway::Learn(uint32_t ip, const MacAddress& mac) {
  if (!OnSubnet(ip) || ip == config_.ip || IsBroadcast(ip) || mac.IsMulticast()) return;
  if (!Believe(ip, mac)) return;
  if (arp_cache_.size() >= kMaxArpEntries && !arp_cache_.contains(ip)) {
    arp_cache_.erase(arp_cache_.begin());
  }
  arp_cache_[ip] = mac;
  // Flush packets that were waiting for this neighbour.
  std::vector<std::vector<uint8_t>> ready;
  std::erase_if(awaiting_arp_, [&](auto& item) {
    if (item.first != ip) return false;
    ready.push_back(std::move(item.second));
    return true;
  });
  for (const auto& packet : ready) SendFrame(mac, kEtherTypeIpv4, packet);
}

bool Gateway::SendIpPacket(Bytes ip_packet, IngressCheck check) {
  auto ip = ParseIpv4Packet(ip_packet);
  if (!ip.ok() || ip->packet.size() > config_.mtu) return false;
  if (check == IngressCheck::kFilter && ingress_filter && !ingress_filter(*ip)) return false;
  uint32_t dst = ip->header.dst;
  if (IsBroadcast(dst)) {
    SendFrame(MacAddress::Broadcast(), kEtherTypeIpv4, ip->packet);
    return true;
  }
  if (!OnSubnet(dst) || dst == config_.ip) return false;
  // The lease holder first: a cached answer may predate the lease.
  std::optional<MacAddress> mac = dhcp_.leases().BoundMac(dst);
  if (auto cached = arp_cache_.find(dst); !mac && cached != arp_cache_.end()) mac = cached->second;
  if (!mac) mac = dhcp_.leases().MacFor(dst);
  if (mac) {
    SendFrame(*mac, kEtherTypeIpv4, ip->packet);
    return true;
  }
  bool asked = std::any_of(awaiting_arp_.begin(), awaiting_arp_.end(),
                           [dst](const auto& item) { return item.first == dst; });
  if (awaiting_arp_.size() >= kMaxAwaitingArp) awaiting_arp_.pop_front();
  awaiting_arp_.emplace_back(dst, std::vector<uint8_t>(ip->packet.begin(), ip->packet.end()));
  if (!asked) SendArpRequest(dst);
  return true;
}

void Gateway::SendArpRequest(uint32_t ip) {
  ArpPacket request{kArpRequest, config_.mac, config_.ip, MacAddress{}, ip};
  SendFrame(MacAddress::Broadcast(), kEtherTypeArp, BuildArp(request));
}

void Gateway::SendFrame(const MacAddress& dst, uint16_t ether_type, Bytes payload) {
  std::vector<uint8_t> frame = BuildEthernetFrame(dst, config_.mac, ether_type, payload);
  lan_.Receive(port_, frame);
}

}  // namespace vk::net
