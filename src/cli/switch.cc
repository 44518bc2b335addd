// `vk switch --listen SOCK [--subnet CIDR] [--hosts n=ip,...]`: a LAN as its
// own process. VMs join with `vk run --net=SOCK`; QEMU (`-netdev
// stream,addr.type=unix,addr.path=SOCK`) and gvisor-tap-vsock peers can too
// (u32 big-endian length-prefixed Ethernet frames).
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "base/log.h"
#include "base/stop_signals.h"
#include "base/strings.h"
#include "cli/command.h"
#include "net/cidr.h"
#include "net/lan.h"
#include "net/switch_server.h"

namespace vk::cli {
namespace {

struct SwitchArgs {
  std::string listen;
  std::string subnet = "192.168.127.0/24";
  std::string hosts;
  std::vector<std::string> publish;
  std::string egress_allow;
  std::string firewall;
};

Result<net::LanOptions> LanOptionsFrom(const SwitchArgs& a) {
  net::LanOptions o;
  net::Cidr subnet = VK_TRY_CTX(net::ParseCidr(a.subnet), "--subnet");
  if (subnet.prefix_len > 29) return Error("--subnet " + a.subnet + " is too small for a LAN");
  o.gateway.network = subnet.base;
  o.gateway.prefix_length = subnet.prefix_len;
  o.gateway.ip = subnet.base + 1;
  for (const std::string& item : Split(a.hosts, ',')) {
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string::npos) return Error("--hosts " + item + ": use NAME=IP");
    uint32_t ip = VK_TRY_CTX(net::ParseIpv4(item.substr(eq + 1)), "--hosts " + item);
    o.hosts.emplace_back(item.substr(0, eq), ip);
  }
  for (const std::string& spec : a.publish)
    o.forwards.push_back(VK_TRY(net::ParsePortForward(spec)));
  if (!a.egress_allow.empty())
    o.egress_allow = VK_TRY_CTX(net::ParseEgressAllow(a.egress_allow), "--egress-allow");
  if (!a.firewall.empty()) o.firewall = VK_TRY(net::ReadRulesFile(a.firewall));
  return o;
}

Result<void> Serve(const SwitchArgs& a) {
  ::signal(SIGPIPE, SIG_IGN);
  auto loop = VK_TRY(EventLoop::Create());
  auto lan = VK_TRY(net::Lan::Create(*loop, VK_TRY(LanOptionsFrom(a))));
  auto server = VK_TRY(net::SwitchServer::Listen(*loop, *lan, a.listen));
  UniqueFd signals = VK_TRY(StopSignalFd());
  VK_TRY(loop->Add(signals.get(), EPOLLIN, [&](uint32_t) { loop->Stop(); }));
  std::fprintf(stderr, "vk switch: LAN %s, gateway %s, listening on %s\n", a.subnet.c_str(),
               net::FormatIpv4(lan->gateway().config().ip).c_str(), a.listen.c_str());
  VK_TRY(loop->Run());
  return Ok();  // ~SwitchServer removes the socket
}

Runner Setup(CLI::App& app) {
  static SwitchArgs a;
  app.add_option("--listen", a.listen, "Unix socket VMs connect to")->required();
  app.add_option("--subnet", a.subnet, "LAN, default 192.168.127.0/24 (gateway .1)");
  app.add_option("--hosts", a.hosts, "Static leases NAME=IP,... (NAME.lan resolves)");
  app.add_option("-p,--publish", a.publish, "Forward [HOSTIP:]HOSTPORT:GUESTPORT[/udp] to .2");
  app.add_option("--egress-allow", a.egress_allow, "Only these names/CIDRs are reachable");
  app.add_option("--firewall", a.firewall, "Rules file (e.g. `default deny egress`)")
      ->check(CLI::ExistingFile);
  return [] {
    auto result = Serve(a);
    if (result.ok()) return 0;
    std::fprintf(stderr, "vk switch: %s\n", result.error().message().c_str());
    return 1;
  };
}

Command kSwitch("switch", "Run a virtual LAN that VMs join with --net=SOCK", &Setup);

}  // namespace
}  // namespace vk::cli
