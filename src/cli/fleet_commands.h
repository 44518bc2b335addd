// The `vk fleet` subcommands that start and end fleets (fleet_up.cc), and
// the request helper every subcommand that talks to a controller uses.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/fleet_source.h"
#include "fleet/fleet_dir.h"
#include "proto/virtctl.h"

namespace vk::cli {

struct FleetUpArgs {
  bool detach = false;
  std::vector<std::string> services;  // empty: every autostart service
};

int RunFleetUp(const FleetSource& source, const FleetUpArgs& args);
int RunFleetDown(const FleetSource& source);

// Prints the services' fleet logs (prefixed "name | ", coloured on a
// terminal, when `prefixed`); with `follow`, goes on while the fleet is up
// and until `stop` (when given) turns true.
int FollowServiceLogs(const fleet::FleetDir& dir, const std::vector<std::string>& services,
                      bool follow, bool prefixed, const volatile bool* stop = nullptr);

// One request to the fleet's running controller; log chunks go to `on_log`.
// kNotFound (with what to do) when the fleet is not up.
Result<proto::VirtctlReply> AskFleet(const fleet::FleetDir& dir,
                                     const proto::VirtctlRequest& request,
                                     const std::function<void(std::string_view)>& on_log = {});

}  // namespace vk::cli
