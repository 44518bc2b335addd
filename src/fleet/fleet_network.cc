#include "fleet/fleet_network.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <set>

#include "base/log.h"
#include "base/unique_fd.h"
#include "net/cidr.h"

namespace vk::fleet {
namespace {

constexpr uint32_t kLanBase = 0xC0A87F00;  // 192.168.127.0/24 (DESIGN.md §4)

Result<uint32_t> HostAddress(const PortMapping& port) {
  if (port.host_ip.empty()) return 0;  // LanOptions: 0 = 127.0.0.1
  if (port.host_ip.find(':') != std::string::npos) {
    return Error(ErrorKind::kUsage, "host address " + port.host_ip +
                                        ": IPv6 is not supported on the fleet LAN; give an "
                                        "IPv4 address or none (127.0.0.1)");
  }
  return net::ParseIpv4(port.host_ip);
}

// A port the kernel picks as free now (compose's "3000" short form). The
// window until the LAN binds it is short, and a clash then is an error.
Result<uint16_t> FreeHostPort(uint32_t host_ip, bool udp) {
  UniqueFd fd(::socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0));
  if (!fd) return Error::FromErrno("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(host_ip == 0 ? INADDR_LOOPBACK : host_ip);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0)
    return Error::FromErrno("bind a free port on " + net::FormatIpv4(host_ip));
  socklen_t length = sizeof(address);
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0)
    return Error::FromErrno("getsockname");
  return ntohs(address.sin_port);
}

Result<void> AddForwards(const ServiceSpec& service, uint32_t guest_ip, NetworkPlan& plan) {
  for (const PortMapping& port : service.ports) {
    uint32_t host_ip = VK_TRY_CTX(HostAddress(port), "service \"" + service.name + "\"");
    bool udp = port.protocol == "udp";
    for (uint32_t i = 0; port.target_first + i <= port.target_last; ++i) {
      net::PortForward forward;
      forward.udp = udp;
      forward.host_ip = host_ip;
      forward.guest_ip = guest_ip;
      forward.guest_port = static_cast<uint16_t>(port.target_first + i);
      forward.host_port = port.published_first == 0
                              ? VK_TRY(FreeHostPort(host_ip, udp))
                              : static_cast<uint16_t>(port.published_first + i);
      plan.lan.forwards.push_back(forward);
      plan.published[service.name].push_back(net::FormatIpv4(host_ip == 0 ? 0x7F000001 : host_ip) +
                                             ":" + std::to_string(forward.host_port) + "->" +
                                             std::to_string(forward.guest_port) + "/" +
                                             port.protocol);
    }
  }
  return Ok();
}

}  // namespace

Result<NetworkPlan> PlanNetwork(const FleetSpec& spec) {
  NetworkPlan plan;
  plan.lan.gateway.network = kLanBase;
  plan.lan.gateway.prefix_length = 24;
  plan.lan.gateway.ip = kLanBase + 1;
  std::set<uint32_t> taken;
  for (const auto& [name, text] : spec.hosts) {
    uint32_t ip = VK_TRY_CTX(net::ParseIpv4(text), "--hosts " + name + "=" + text);
    plan.lan.hosts.emplace_back(name, ip);
    taken.insert(ip);
  }
  uint32_t next = kLanBase + kFirstServiceHost;
  for (const ServiceSpec& service : spec.services) {
    while (taken.contains(next)) ++next;
    if (next >= kLanBase + 255)
      return Error(ErrorKind::kUsage, "the fleet LAN has no address left for " + service.name);
    uint32_t ip = next++;
    plan.addresses[service.name] = ip;
    std::string hostname = service.hostname.empty() ? service.name : service.hostname;
    plan.lan.hosts.emplace_back(hostname, ip);
    if (hostname != service.name) plan.aliases.emplace_back(service.name, ip);
    VK_TRY(AddForwards(service, ip, plan));
  }
  return plan;
}

Result<std::unique_ptr<FleetNetwork>> FleetNetwork::Start(const NetworkPlan& plan,
                                                          const std::string& socket_path) {
  std::unique_ptr<FleetNetwork> network(new FleetNetwork());
  network->loop_ = VK_TRY(EventLoop::Create());
  network->lan_ = VK_TRY_CTX(net::Lan::Create(*network->loop_, plan.lan), "fleet LAN");
  for (const auto& [name, ip] : plan.aliases) network->lan_->gateway().dns().RegisterName(name, ip);
  network->server_ =
      VK_TRY(net::SwitchServer::Listen(*network->loop_, *network->lan_, socket_path));
  EventLoop* loop = network->loop_.get();
  network->thread_ = std::thread([loop] {
    if (auto ran = loop->Run(); !ran.ok()) log::Error("fleet LAN: {}", ran.error().message());
  });
  return network;
}

FleetNetwork::~FleetNetwork() {
  if (thread_.joinable()) {
    loop_->Stop();
    thread_.join();
  }
  server_.reset();  // before the Lan its ports are on
  lan_.reset();
}

}  // namespace vk::fleet
