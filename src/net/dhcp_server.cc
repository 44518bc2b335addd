#include "net/dhcp_server.h"

#include "net/ipv4.h"

namespace vk::net {
namespace {

DhcpClient ClientOf(const DhcpMessage& message) {
  DhcpClient client;
  client.mac = message.chaddr;
  if (auto name = message.OptionString(kDhcpOptHostName)) {
    client.host_name = NormalizeHostLabel(*name).value_or("");
  }
  // RFC 2132 §9.14: a type byte, then the identifier (type 0: a name).
  if (auto id = message.OptionString(kDhcpOptClientId); id && id->size() > 1) {
    client.client_id = id->substr(1);
  }
  return client;
}

}  // namespace

DhcpServer::DhcpServer(DhcpServerConfig config, Clock clock)
    : config_(std::move(config)),
      leases_(config_.pool_first, config_.pool_last, {config_.server_ip}, std::move(clock)) {}

Result<void> DhcpServer::AddStaticLease(std::string name, uint32_t ip) {
  if (name.empty()) return Error("static lease: empty name");
  std::string registered = name;
  VK_TRY(leases_.AddStatic(std::move(name), std::nullopt, ip));
  if (on_name) on_name(registered, ip);
  return Ok();
}

Result<void> DhcpServer::AddStaticLease(const MacAddress& mac, uint32_t ip, std::string name) {
  std::string registered = name;
  VK_TRY(leases_.AddStatic(std::move(name), mac, ip));
  if (on_name && !registered.empty()) on_name(registered, ip);
  return Ok();
}

std::optional<DhcpReply> DhcpServer::Handle(Bytes payload, const MacAddress& link_src) {
  auto request = ParseDhcp(payload);
  if (!request.ok() || request->op != 1 || !(request->chaddr == link_src)) return std::nullopt;
  auto type = request->type();
  if (!type) return std::nullopt;
  DhcpClient client = ClientOf(*request);
  switch (*type) {
    case DhcpType::kDiscover: return Discover(*request, client);
    case DhcpType::kRequest: return Request(*request, client);
    case DhcpType::kInform: return Inform(*request);
    case DhcpType::kRelease:
      leases_.Release(client.mac, request->ciaddr);  // RFC 2131 §4.3.4
      return std::nullopt;
    default: return std::nullopt;  // DECLINE, and server-to-client types
  }
}

std::optional<DhcpReply> DhcpServer::Discover(const DhcpMessage& request,
                                              const DhcpClient& client) {
  // RFC 2131 §4.3.1. Nothing is reserved until REQUEST, so a guest spraying
  // DISCOVERs from made-up MACs cannot exhaust the pool.
  auto ip = leases_.Choose(client, request.OptionIp(kDhcpOptRequestedIp));
  if (!ip) return std::nullopt;
  DhcpMessage reply = ReplyTo(request, DhcpType::kOffer);
  reply.yiaddr = *ip;
  bool name_free = !client.host_name.empty() && leases_.NameFreeFor(client.host_name, *ip);
  AddNetworkOptions(reply, name_free ? client.host_name : leases_.NameOf(*ip));
  return Address(request, std::move(reply));
}

std::optional<DhcpReply> DhcpServer::Request(const DhcpMessage& request, const DhcpClient& client) {
  // RFC 2131 §4.3.2: SELECTING carries our server id and option 50;
  // INIT-REBOOT carries option 50 only; RENEWING/REBINDING fill ciaddr.
  auto server_id = request.OptionIp(kDhcpOptServerId);
  if (server_id && *server_id != config_.server_ip) return std::nullopt;  // chose another
  auto requested = request.OptionIp(kDhcpOptRequestedIp);
  uint32_t ip = requested.value_or(request.ciaddr);
  if (ip == 0) return std::nullopt;
  bool on_subnet = (ip & config_.netmask) == (config_.server_ip & config_.netmask);
  if (!on_subnet || !leases_.MayBind(client, ip)) return Nak(request);
  // A client that would get a static address must not keep a dynamic one.
  if (auto wanted = leases_.Choose(client, ip); wanted && *wanted != ip) return Nak(request);
  return Ack(request, client, ip);
}

std::optional<DhcpReply> DhcpServer::Ack(const DhcpMessage& request, const DhcpClient& client,
                                         uint32_t ip) {
  leases_.Bind(client, ip, config_.lease_time);
  DhcpMessage reply = ReplyTo(request, DhcpType::kAck);
  reply.yiaddr = ip;
  // Echo the name the lease got: a name another lease holds is not granted.
  AddNetworkOptions(reply, leases_.NameOf(ip));
  return Address(request, std::move(reply));
}

std::optional<DhcpReply> DhcpServer::Inform(const DhcpMessage& request) {
  // RFC 2131 §4.3.5: configuration only; no yiaddr, no lease time.
  if (request.ciaddr == 0) return std::nullopt;
  DhcpMessage reply = ReplyTo(request, DhcpType::kAck);
  AddNetworkOptions(reply, "");
  reply.options.erase(kDhcpOptLeaseTime);
  reply.options.erase(kDhcpOptRenewalTime);
  reply.options.erase(kDhcpOptRebindingTime);
  return DhcpReply{BuildDhcp(reply), request.chaddr, request.ciaddr};
}

DhcpReply DhcpServer::Nak(const DhcpMessage& request) {
  DhcpMessage reply = ReplyTo(request, DhcpType::kNak);
  reply.SetString(kDhcpOptMessage, "requested address not available");
  // RFC 2131 §4.3.2: NAKs are broadcast when giaddr is 0.
  return DhcpReply{BuildDhcp(reply), MacAddress::Broadcast(), kIpv4Broadcast};
}

DhcpMessage DhcpServer::ReplyTo(const DhcpMessage& request, DhcpType type) const {
  DhcpMessage reply;
  reply.op = 2;
  reply.xid = request.xid;
  reply.flags = request.flags;
  reply.ciaddr = type == DhcpType::kNak ? 0 : request.ciaddr;
  reply.chaddr = request.chaddr;
  reply.options[kDhcpOptMessageType] = {static_cast<uint8_t>(type)};
  reply.SetIp(kDhcpOptServerId, config_.server_ip);
  return reply;
}

void DhcpServer::AddNetworkOptions(DhcpMessage& reply, std::string_view name) const {
  uint32_t lease = static_cast<uint32_t>(config_.lease_time.count());
  reply.siaddr = config_.server_ip;
  reply.SetIp(kDhcpOptSubnetMask, config_.netmask);
  reply.SetIp(kDhcpOptRouter, config_.server_ip);
  reply.SetIp(kDhcpOptDnsServer, config_.server_ip);
  reply.SetIp(kDhcpOptBroadcast, config_.server_ip | ~config_.netmask);
  reply.SetString(kDhcpOptDomainName, config_.domain);
  reply.SetU16(kDhcpOptInterfaceMtu, config_.mtu);
  reply.SetU32(kDhcpOptLeaseTime, lease);
  reply.SetU32(kDhcpOptRenewalTime, lease / 2);  // RFC 2131 §4.4.5 T1
  reply.SetU32(kDhcpOptRebindingTime, lease / 8 * 7);
  if (!name.empty()) reply.SetString(kDhcpOptHostName, name);
}

DhcpReply DhcpServer::Address(const DhcpMessage& request, DhcpMessage reply) const {
  // RFC 2131 §4.1: unicast to ciaddr if set; broadcast if the client set the
  // broadcast bit; otherwise unicast to chaddr/yiaddr.
  uint32_t dst = request.ciaddr != 0                         ? request.ciaddr
                 : (request.flags & kDhcpBroadcastFlag) != 0 ? kIpv4Broadcast
                                                             : reply.yiaddr;
  MacAddress mac = dst == kIpv4Broadcast ? MacAddress::Broadcast() : request.chaddr;
  return DhcpReply{BuildDhcp(reply), mac, dst};
}

}  // namespace vk::net
