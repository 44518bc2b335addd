// DhcpServer: the LAN's DHCP server (RFC 2131, options RFC 2132). Pure
// message logic: payload in, reply payload + where to send it out; the
// gateway does the UDP/IP/Ethernet framing.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/dhcp_leases.h"
#include "net/dhcp_message.h"

namespace vk::net {

struct DhcpServerConfig {
  uint32_t server_ip = 0;  // also router and DNS server
  uint32_t netmask = 0;
  uint32_t pool_first = 0;
  uint32_t pool_last = 0;
  std::string domain = "lan";
  std::chrono::seconds lease_time{3600};
  uint16_t mtu = 1500;
};

struct DhcpReply {
  std::vector<uint8_t> payload;
  MacAddress dst_mac;
  uint32_t dst_ip = 0;  // 255.255.255.255 when the client asked for broadcast
};

class DhcpServer {
 public:
  explicit DhcpServer(DhcpServerConfig config, Clock clock = SteadyClock());

  // Reserves `ip` for the client whose host name or client id is `name`.
  Result<void> AddStaticLease(std::string name, uint32_t ip);
  Result<void> AddStaticLease(const MacAddress& mac, uint32_t ip, std::string name = "");

  // Handles a client message that arrived in a frame from `link_src`;
  // nullopt means no reply (malformed, not for us, RELEASE/DECLINE, pool
  // exhausted). chaddr must equal the frame's source MAC: there are no relays
  // on our LAN, and it ties leases to the switch's per-port MAC cap so one
  // guest cannot lease the whole pool under made-up hardware addresses.
  std::optional<DhcpReply> Handle(Bytes payload, const MacAddress& link_src);

  const DhcpLeases& leases() const { return leases_; }

  // Called when a static lease with a name is added: the gateway registers
  // NAME.<domain> -> ip with DNS. Names of dynamic leases live in leases()
  // (IpForName), bound to their lease.
  std::function<void(std::string_view name, uint32_t ip)> on_name;

 private:
  std::optional<DhcpReply> Discover(const DhcpMessage& request, const DhcpClient& client);
  std::optional<DhcpReply> Request(const DhcpMessage& request, const DhcpClient& client);
  std::optional<DhcpReply> Inform(const DhcpMessage& request);
  std::optional<DhcpReply> Ack(const DhcpMessage& request, const DhcpClient& client, uint32_t ip);
  DhcpReply Nak(const DhcpMessage& request);
  DhcpMessage ReplyTo(const DhcpMessage& request, DhcpType type) const;
  void AddNetworkOptions(DhcpMessage& reply, std::string_view name) const;
  DhcpReply Address(const DhcpMessage& request, DhcpMessage reply) const;

  DhcpServerConfig config_;
  DhcpLeases leases_;
};

}  // namespace vk::net
