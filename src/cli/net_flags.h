// The network flags `vk run` and `vk launch` share: --net[=SOCK], -p,
// --egress-allow.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "runtime/vm_network.h"

namespace vk::cli {

struct NetFlags {
  std::string net;  // "" off, "in-process" for a bare --net, else a switch socket
  std::vector<std::string> publish;
  std::string egress_allow;
  std::string firewall;  // a rules file (src/net/firewall_rule.h grammar)

  void Add(CLI::App& app) {
    app.add_flag("--net{in-process}", net,
                 "Network: --net (private LAN, egress via host sockets) or --net=SOCK "
                 "(join a `vk switch`)")
        ->expected(0, 1);
    app.add_option("-p,--publish", publish, "Forward [HOSTIP:]HOSTPORT:GUESTPORT[/udp]");
    app.add_option("--egress-allow", egress_allow,
                   "Only these names/CIDRs are reachable: github.com,*.npmjs.org,10.0.0.0/8");
    app.add_option("--firewall", firewall,
                   "Rules file: lines like `allow egress tcp to 10.0.0.0/8 port 443`, "
                   "`default deny egress`")
        ->check(CLI::ExistingFile);
  }

  NetworkOptions ToOptions() const {
    NetworkOptions o;
    if (net == "in-process") {
      o.mode = NetworkOptions::Mode::kInProcess;
    } else if (!net.empty()) {
      o.mode = NetworkOptions::Mode::kSwitch;
      o.switch_socket = net;
    }
    o.publish = publish;
    o.egress_allow = egress_allow;
    o.firewall_file = firewall;
    return o;
  }
};

}  // namespace vk::cli
