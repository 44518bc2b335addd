// Where `vk fleet` subcommands get their fleet: a compose file, or the
// command-line form (--vm/--service/--hosts, src/fleet/fleet_flags.h). The
// controller that `up` starts in the background is given the same options
// (Arguments()), so it reads the very same fleet.
#pragma once

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "fleet/compose_file.h"
#include "fleet/fleet_flags.h"
#include "fleet/fleet_spec.h"

namespace vk::cli {

struct FleetSource {
  std::string file;
  std::vector<std::string> profiles;
  fleet::FleetFlags flags;

  void Add(CLI::App& app) {
    app.add_option("-f,--file", file,
                   "Compose file (default: compose.yaml, compose.yml, docker-compose.yaml or "
                   "docker-compose.yml here)");
    app.add_option("--profile", profiles, "Enable services of this compose profile (repeatable)")
        ->allow_extra_args(false);
    app.add_option("--vm", flags.vm, "Command-line form: the dev VM's image");
    app.add_option("--workdir", flags.workdir,
                   "Command-line form: host DIR shared at /work in the dev VM");
    app.add_option("--service", flags.services,
                   "Command-line form: NAME:IMAGE[:KEY=VALUE...] (keys: port env volume restart "
                   "cpus mem user workdir depends autostart; docs/fleet.md)")
        ->allow_extra_args(false);
    app.add_option("--hosts", flags.hosts, "Command-line form: a fixed LAN name NAME=IP")
        ->allow_extra_args(false);
  }

  Result<fleet::FleetSpec> Load() const {
    bool command_line = !flags.vm.empty() || !flags.services.empty();
    if (command_line && !file.empty())
      return Error(ErrorKind::kUsage, "give either -f FILE or --vm/--service, not both");
    if (command_line && !profiles.empty())
      return Error(ErrorKind::kUsage, "--profile selects services of a compose file");
    if (!command_line && (!flags.workdir.empty() || !flags.hosts.empty()))
      return Error(ErrorKind::kUsage, "--workdir and --hosts belong to --vm/--service");
    char cwd[4096];
    if (::getcwd(cwd, sizeof(cwd)) == nullptr) return Error::FromErrno("getcwd");
    if (command_line) return fleet::FleetFromFlags(flags, cwd);
    fleet::ComposeOptions options;
    options.file = file;
    options.dir = cwd;
    options.profiles = profiles;
    return fleet::LoadComposeFile(options);
  }

  // The options that name this fleet again, for a `vk fleet` run in the
  // same working directory and environment.
  std::vector<std::string> Arguments() const {
    std::vector<std::string> args;
    auto add = [&](const char* option, const std::string& value) {
      if (value.empty()) return;
      args.push_back(option);
      args.push_back(value);
    };
    add("--file", file);
    for (const std::string& p : profiles) add("--profile", p);
    add("--vm", flags.vm);
    add("--workdir", flags.workdir);
    for (const std::string& s : flags.services) add("--service", s);
    for (const std::string& h : flags.hosts) add("--hosts", h);
    return args;
  }
};

}  // namespace vk::cli
