#include "net/lan.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <chrono>
#include <cstdlib>
#include <fstream>

#include "base/log.h"
#include "base/strings.h"
#include "net/cidr.h"
#include "net/dns_upstream.h"
#include "net/ipv4_icmp.h"
#include "net/reject.h"
#include "net/slirp_egress.h"
#include "net/tcp_header.h"
#include "net/udp.h"

namespace vk::net {
namespace {

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

Result<uint16_t> ParsePort(std::string_view text, std::string_view spec) {
  auto port = ParseUint(text);
  if (!port || *port == 0 || *port > 65535)
    return Error("-p " + std::string(spec) + ": \"" + std::string(text) + "\" is not a port");
  return static_cast<uint16_t>(*port);
}

}  // namespace

Result<RuleSet> ReadRulesFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error::FromErrno("--firewall " + path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  return ParseRules(text).Context("--firewall " + path);
}

Result<PortForward> ParsePortForward(std::string_view text) {
  PortForward f;
  std::string_view spec = text;
  if (text.size() > 4 && text.substr(text.size() - 4) == "/udp") {
    f.udp = true;
    text.remove_suffix(4);
  } else if (text.size() > 4 && text.substr(text.size() - 4) == "/tcp") {
    text.remove_suffix(4);
  }
  std::vector<std::string> parts = Split(text, ':');
  if (parts.size() != 2 && parts.size() != 3)
    return Error("-p " + std::string(spec) + ": use [HOSTIP:]HOSTPORT:GUESTPORT[/udp]");
  if (parts.size() == 3) f.host_ip = VK_TRY_CTX(ParseIpv4(parts[0]), "-p " + std::string(spec));
  f.host_port = VK_TRY(ParsePort(parts[parts.size() - 2], spec));
  f.guest_port = VK_TRY(ParsePort(parts.back(), spec));
  return f;
}

// A switch port seen from its owner: frames written here enter the switch.
class Lan::PortSink : public FrameSink {
 public:
  PortSink(Switch& lan, PortId id) : lan_(lan), id_(id) {}
  bool Deliver(Bytes frame) override {
    lan_.Receive(id_, frame);
    return true;
  }
  PortId id() const { return id_; }

 private:
  Switch& lan_;
  PortId id_;
};

// The firewall's view of a packet: protocol, addresses, ports (ICMP echo:
// the identifier on both sides), TCP flags. Other protocols are not keyed.
std::optional<FlowKey> FlowKeyOf(const Ipv4Packet& ip) {
  FlowKey key;
  key.src_ip = ip.header.src;
  key.dst_ip = ip.header.dst;
  if (ip.header.protocol == 6) {
    auto tcp = ParseTcp(ip, L4Checksum::kSkip);
    if (!tcp.ok()) return std::nullopt;
    key = {IpProto::kTcp, key.src_ip,           tcp->header.src_port,
           key.dst_ip,    tcp->header.dst_port, tcp->header.flags};
  } else if (ip.header.protocol == 17) {
    auto udp = ParseUdp(ip, L4Checksum::kSkip);
    if (!udp.ok()) return std::nullopt;
    key = {IpProto::kUdp, key.src_ip, udp->src_port, key.dst_ip, udp->dst_port, 0};
  } else if (ip.header.protocol == 1) {
    auto echo = ParseIcmpEcho(ip.payload);
    if (!echo.ok()) return std::nullopt;
    key = {IpProto::kIcmp, key.src_ip, echo->id, key.dst_ip, echo->id, 0};
  } else {
    return std::nullopt;
  }
  return key;
}

Lan::Lan(EventLoop& loop, LanOptions options) : loop_(loop), options_(std::move(options)) {
  const char* upstream = std::getenv("VIRTKIT_DNS_UPSTREAM");
  if (options_.dns_upstream.empty() && upstream != nullptr) options_.dns_upstream = upstream;
}

Lan::~Lan() {
  if (gateway_) gateway_->SetEgressHandler(nullptr);
}

Result<std::unique_ptr<Lan>> Lan::Create(EventLoop& loop, LanOptions options) {
  std::unique_ptr<Lan> lan(new Lan(loop, std::move(options)));
  VK_TRY(lan->Start());
  return lan;
}

uint32_t Lan::FirstGuestIp() const { return options_.gateway.network + 2; }

static Result<std::unique_ptr<UdpDnsUpstream>> MakeUpstream(EventLoop& loop,
                                                            const LanOptions& options) {
  if (options.dns_upstream.empty())
    return UdpDnsUpstream::FromResolvConf(loop, options.resolv_conf);
  size_t colon = options.dns_upstream.rfind(':');
  uint32_t ip = VK_TRY(ParseIpv4(options.dns_upstream.substr(0, colon)));
  auto port = ParseUint(colon == std::string::npos ? "53" : options.dns_upstream.substr(colon + 1));
  if (!port || *port == 0 || *port > 65535)
    return Error("bad DNS upstream " + options.dns_upstream);
  ResolverAddress server;
  auto* in = reinterpret_cast<sockaddr_in*>(&server.address);
  in->sin_family = AF_INET;
  in->sin_addr.s_addr = htonl(ip);
  in->sin_port = htons(static_cast<uint16_t>(*port));
  server.length = sizeof(sockaddr_in);
  return UdpDnsUpstream::Create(loop, {server});
}

Result<void> Lan::Start() {
  auto upstream = MakeUpstream(loop_, options_);
  if (upstream.ok()) {
    upstream_ = std::move(*upstream);
  } else {
    log::Warn("network: no upstream DNS ({}); only NAME.lan names resolve",
              upstream.error().message());
  }
  gateway_ = std::make_unique<Gateway>(switch_, options_.gateway, upstream_.get());
  for (const auto& [name, ip] : options_.hosts) VK_TRY(gateway_->dhcp().AddStaticLease(name, ip));
  StartFirewall();
  if (options_.egress_allow) {
    EgressPolicy* policy = policy_.get();
    gateway_->dns().name_filter = [policy](std::string_view name) {
      return policy->AllowName(name);
    };
    gateway_->dns().on_answer = [policy](std::string_view name, const std::vector<uint32_t>& ips,
                                         uint32_t ttl) { policy->Learn(name, ips, ttl, NowMs()); };
  }
  auto slirp = VK_TRY(
      SlirpEgress::Create(loop_, *gateway_, SlirpEgressOptions::ForGateway(options_.gateway)));
  for (const PortForward& f : options_.forwards) {
    uint32_t host_ip = f.host_ip != 0 ? f.host_ip : Ipv4(127, 0, 0, 1);
    uint32_t guest_ip = f.guest_ip != 0 ? f.guest_ip : FirstGuestIp();
    auto proto = f.udp ? ForwardProto::kUdp : ForwardProto::kTcp;
    VK_TRY_CTX(slirp->AddPortForward(proto, host_ip, f.host_port, guest_ip, f.guest_port),
               "-p " + FormatIpv4(host_ip) + ":" + std::to_string(f.host_port));
  }
  slirp_ = std::move(slirp);
  gateway_->SetEgressHandler(slirp_.get());
  return Ok();
}

void Lan::StartFirewall() {
  if (!options_.firewall && !options_.egress_allow) return;
  RuleSet rules = options_.firewall.value_or(RuleSet{});
  // A forwarded port is an explicit invitation in: allow it before the rules.
  for (const PortForward& f : options_.forwards) {
    Rule allow;
    allow.direction = Direction::kIngress;
    allow.action = Action::kAllow;
    allow.proto = f.udp ? IpProto::kUdp : IpProto::kTcp;
    allow.dst_ports = {f.guest_port, f.guest_port};
    rules.rules.insert(rules.rules.begin(), allow);
  }
  firewall_ = std::make_unique<Firewall>(std::move(rules));
  if (options_.egress_allow) {
    const GatewayConfig& lan = options_.gateway;
    Cidr subnet{lan.network & PrefixMask(lan.prefix_length),
                static_cast<uint8_t>(lan.prefix_length)};
    policy_ = std::make_unique<EgressPolicy>(*options_.egress_allow, EgressLimits{},
                                             EgressLan{subnet, lan.ip});
    firewall_->SetEgressPolicy(policy_.get());
  }
  // Both run on the gateway's thread. A packet from the LAN that is
  // rejected is answered into the LAN (a reset or ICMP, so the guest fails at
  // once); one from outside is answered back out through slirp (set by the
  // time packets flow).
  gateway_->egress_filter = [this](const Ipv4Packet& ip) {
    Verdict verdict = Check(ip, Direction::kEgress);
    if (verdict.action == Action::kReject) {
      if (auto answer = BuildRejection(ip.packet, options_.gateway.ip))
        gateway_->SendIpPacket(*answer, Gateway::IngressCheck::kBypass);
    }
    return verdict.allowed();
  };
  gateway_->ingress_filter = [this](const Ipv4Packet& ip) {
    Verdict verdict = Check(ip, Direction::kIngress);
    if (verdict.action == Action::kReject && slirp_) {
      if (auto answer = BuildRejection(ip.packet, options_.gateway.ip)) slirp_->OnIpPacket(*answer);
    }
    return verdict.allowed();
  };
}

// Unkeyable packets (other protocols, malformed headers) are denied.
Verdict Lan::Check(const Ipv4Packet& ip, Direction direction) const {
  auto key = FlowKeyOf(ip);
  return key ? firewall_->Check(*key, direction, NowMs()) : Verdict{};
}

FrameSink* Lan::AddPort(FrameSink* egress, std::string name) {
  PortId id = switch_.AddPort(egress, std::move(name));
  ports_.push_back(std::make_unique<PortSink>(switch_, id));
  return ports_.back().get();
}

void Lan::RemovePort(FrameSink* ingress) {
  for (auto it = ports_.begin(); it != ports_.end(); ++it) {
    if (it->get() != ingress) continue;
    switch_.RemovePort((*it)->id());
    ports_.erase(it);
    return;
  }
}

Result<void> Lan::AddStaticLease(const MacAddress& mac, uint32_t ip, std::string name) {
  return gateway_->dhcp().AddStaticLease(mac, ip, std::move(name));
}

}  // namespace vk::net
