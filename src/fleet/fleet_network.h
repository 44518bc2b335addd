// The fleet's LAN, owned by its controller: one in-process Lan (switch,
// DHCP, DNS with NAME.lan, egress through host sockets, published ports)
// on its own EventLoop thread, with a SwitchServer on the fleet's lan.sock
// that every service VM joins (NetworkMode::kSwitch).
//
// Addresses are fixed per fleet: services in name order get .10, .11, ...
// (skipping --hosts addresses) as static leases of their guest host name,
// so a VM that restarts comes back at the same address, and a service whose
// `hostname` differs from its name answers by both. Guests resolve with
// `search lan`, so `redis` and `redis.lan` both work (compose files that
// say `redis:6379` run unchanged).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/event_loop.h"
#include "base/result.h"
#include "fleet/fleet_spec.h"
#include "net/lan.h"
#include "net/switch_server.h"

namespace vk::fleet {

// The first service address (.10): below it are the gateway (.1) and
// addresses left for peers that join the LAN by DHCP alone.
inline constexpr uint32_t kFirstServiceHost = 10;

struct NetworkPlan {
  net::LanOptions lan;
  std::map<std::string, uint32_t> addresses;  // service -> IPv4 (host order)
  // Names answered besides the static leases: a service's name when its
  // guest host name differs.
  std::vector<std::pair<std::string, uint32_t>> aliases;
  // service -> "127.0.0.1:6380->6379/tcp", as `ps` shows them
  std::map<std::string, std::vector<std::string>> published;
};

// Addresses, names and port forwards for `spec`. A port published without a
// host port gets a free one now. Host addresses: an empty one is 127.0.0.1
// (never every address of the host: a service is only exposed beyond this
// machine when the compose file names an address); IPv6 ones are refused.
Result<NetworkPlan> PlanNetwork(const FleetSpec& spec);

class FleetNetwork {
 public:
  // Starts the LAN thread and listens on `socket_path`.
  static Result<std::unique_ptr<FleetNetwork>> Start(const NetworkPlan& plan,
                                                     const std::string& socket_path);
  ~FleetNetwork();  // stops the thread; the socket file goes
  FleetNetwork(const FleetNetwork&) = delete;
  FleetNetwork& operator=(const FleetNetwork&) = delete;

 private:
  FleetNetwork() = default;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<net::Lan> lan_;
  std::unique_ptr<net::SwitchServer> server_;
  std::thread thread_;
};

}  // namespace vk::fleet
