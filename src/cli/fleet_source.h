// Where `vk fleet` subcommands get their fleet: compose files, or the
// command-line form (--vm/--service/--hosts, src/fleet/fleet_flags.h). The
// controller that `up` starts in the background is given the same options
// (Arguments()), so it reads the very same fleet. Subcommands that only
// talk to a running fleet take just its name (Target()) when -p names it
// and no -f is given, as `docker compose -p NAME down` does.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "fleet/fleet_flags.h"
#include "fleet/fleet_spec.h"

namespace vk::cli {

// A fleet as the subcommands that only talk to a running one need it: its
// name, and its spec when a compose file (or the command line) was read.
struct FleetTarget {
  std::string name;
  std::optional<fleet::FleetSpec> spec;
};

struct FleetSource {
  std::vector<std::string> files;  // -f, in merge order
  std::string project_name;        // -p
  std::vector<std::string> profiles;
  fleet::FleetFlags flags;

  void Add(CLI::App& app);

  // The whole fleet: the compose files or the command-line form.
  Result<fleet::FleetSpec> Load() const;

  // For down, ps, logs, exec, start, stop, restart. compose's rule: with -p
  // and no -f, the name alone (no file is read, even one that is there);
  // with $COMPOSE_PROJECT_NAME, the name alone when there is no compose
  // file to read; otherwise Load().
  Result<FleetTarget> Target() const;

  // The options that name this fleet again, for a `vk fleet` run in the
  // same working directory and environment.
  std::vector<std::string> Arguments() const;
};

}  // namespace vk::cli
