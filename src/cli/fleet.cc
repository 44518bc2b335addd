// `vk fleet config [-f FILE] [--profile P]...` prints the resolved fleet as
// YAML, like `docker compose config`; the fleet may also be given in the
// command-line form (--vm/--service/--hosts, src/fleet/fleet_flags.h).
// docs/fleet.md lists the compose keys a fleet honours.
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "fleet/compose_file.h"
#include "fleet/fleet_flags.h"
#include "fleet/fleet_yaml.h"

namespace vk::cli {
namespace {

// Where the fleet comes from: a compose file, or the command-line form.
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
};

int RunConfig(const FleetSource& source) {
  auto fleet = source.Load();
  if (!fleet.ok()) return Fail("fleet config", fleet.error());
  for (const std::string& warning : fleet->warnings) {
    std::fprintf(stderr, "vk fleet config: warning: %s\n", warning.c_str());
  }
  std::fputs(fleet::FleetToYaml(*fleet).c_str(), stdout);
  return 0;
}

Runner Setup(CLI::App& app) {
  auto source = std::make_shared<FleetSource>();
  app.require_subcommand(1);
  CLI::App* config = app.add_subcommand("config", "Print the resolved fleet as YAML");
  source->Add(*config);
  return [source, config]() -> int {
    if (config->parsed()) return RunConfig(*source);
    return kExitUsage;
  };
}

Command kFleet("fleet", "A dev VM and service VMs on one LAN, from a compose file", &Setup);

}  // namespace
}  // namespace vk::cli
