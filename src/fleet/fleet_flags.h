// The command-line form of a fleet, for stacks too small for a file:
//
//   vk fleet --vm IMAGE [--workdir DIR] --service NAME:IMAGE[:KEY=VALUE...]...
//            [--hosts NAME=IP]...
//
// --vm is the dev VM, named "dev"; --workdir shares host DIR into it at
// /work and starts it there (as `vk run -w`). Each --service is a service VM
// whose IMAGE may have a tag or digest (redis:7, localhost:5000/app@sha256:..).
// After the image come KEY=VALUE settings separated by ':'; a value may hold
// ':' itself (port=8080:80, restart=on-failure:3), because a new setting
// starts only where a segment begins with one of these keys and '=':
//
//   port=[IP:][HOST:]GUEST[/udp]  publish a port (compose's short syntax)
//   env=NAME=VALUE                set an environment variable
//   volume=HOST:GUEST[:ro]        bind-mount a host directory
//   restart=POLICY                no, always, unless-stopped, on-failure[:N]
//   cpus=N                        CPUs (as compose's cpus)
//   mem=SIZE                      memory, e.g. 512m or 1g
//   user=USER                     the user the command runs as
//   workdir=DIR                   the command's working directory in the guest
//   depends=NAME                  start after service NAME has started
//   autostart=false               start only on request (virtctl start NAME)
//
// Every key may repeat; the last restart/cpus/mem/user/workdir wins.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "fleet/fleet_spec.h"

namespace vk::fleet {

struct FleetFlags {
  std::string vm;                     // --vm IMAGE; empty: no dev VM
  std::string workdir;                // --workdir DIR (host)
  std::vector<std::string> services;  // --service values
  std::vector<std::string> hosts;     // --hosts NAME=IP values
  std::string name;                   // -p NAME; empty: the directory's name
};

// The keys a --service may set, for help texts and suggestions.
const std::vector<std::string>& ServiceFlagKeys();

// `project_dir` (normally the working directory) names the fleet (unless
// flags.name does) and resolves relative paths. Validated like a compose file (fleet_validate.h).
Result<FleetSpec> FleetFromFlags(const FleetFlags& flags, const std::string& project_dir);

}  // namespace vk::fleet
