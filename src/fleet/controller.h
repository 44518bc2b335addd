// The fleet controller: one process per running fleet (`vk fleet up` starts
// it in the background). It owns the fleet LAN (fleet_network.h), one Unit
// per service (unit.h), and answers `vk fleet` on controller.sock and each
// service VM's virtctl on that VM's vsock.sock_4446 (request_server.h).
//
// Rights: the host's `vk fleet` may do everything. A guest may list units,
// read their status and logs; it may start, stop and restart them only when
// it is the dev VM or its service has `x-virtkit: {control: true}`; no guest
// may take the fleet down.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "fleet/fleet_dir.h"
#include "fleet/fleet_network.h"
#include "fleet/fleet_spec.h"
#include "fleet/request_server.h"
#include "fleet/unit.h"

namespace vk::fleet {

// Runs the controller in this process until `down` or SIGTERM/SIGINT/SIGHUP:
// LAN up, `wanted` (empty: every autostart service) started in dependency
// order, then everything stopped in reverse order and the fleet's directory
// removed. Blocks those signals in every thread it starts, so call it before
// any other thread exists. Returns once the fleet is down.
Result<void> RunController(const FleetSpec& spec, const std::vector<std::string>& wanted);

// Whether `caller` (a service's name, or "" for the host) may make `op`:
// the rights listed above. `may_control`: the caller's service is the dev VM
// or has `x-virtkit: {control: true}`.
Result<void> CheckRight(const std::string& caller, bool may_control, proto::VirtctlOp op);

// Removes what a fleet's controller that crashed or was killed left behind:
// the VMs of `services` and of every service with a log in `dir`, and the
// directory. Returns how many things it removed.
Result<int> RemoveLeftovers(const FleetDir& dir, const std::vector<std::string>& services);

class Controller {
 public:
  Controller(const FleetSpec& spec, FleetDir dir, NetworkPlan plan);
  ~Controller();  // stops every unit in reverse dependency order
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  Result<void> Start(const std::vector<std::string>& wanted);
  // A request from `caller`: a service's name, or "" for the host.
  void Handle(const std::string& caller, const proto::VirtctlRequest& request, RequestStream& out);

 private:
  Result<std::string> Control(const std::string& caller, const proto::VirtctlRequest& request);
  Result<Unit*> Find(const std::string& name);
  void StreamLogs(const std::string& service, bool follow, RequestStream& out);
  void StopAll();

  FleetSpec spec_;
  FleetDir dir_;
  NetworkPlan plan_;
  std::unique_ptr<FleetNetwork> network_;
  std::map<std::string, std::unique_ptr<Unit>> units_;
  std::unique_ptr<RequestServer> server_;
  std::atomic<bool> closing_{false};
};

}  // namespace vk::fleet
