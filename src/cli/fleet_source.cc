#include "cli/fleet_source.h"

#include <unistd.h>

#include <cstdlib>

#include "fleet/compose_file.h"
#include "fleet/fleet_name.h"

namespace vk::cli {
namespace {

Result<std::string> WorkingDirectory() {
  char cwd[4096];
  if (::getcwd(cwd, sizeof(cwd)) == nullptr) return Error::FromErrno("getcwd");
  return std::string(cwd);
}

std::string EnvironmentName() {
  const char* name = std::getenv("COMPOSE_PROJECT_NAME");
  return name != nullptr ? name : "";
}

// Whether Load() would have a file to read: $COMPOSE_FILE, or one here.
bool HasComposeFile() {
  const char* list = std::getenv("COMPOSE_FILE");
  if (list != nullptr && *list != '\0') return true;
  auto cwd = WorkingDirectory();
  return cwd.ok() && fleet::FindComposeFile(*cwd).ok();
}

}  // namespace

void FleetSource::Add(CLI::App& app) {
  app.add_option("-f,--file", files,
                 "Compose file; repeat to merge several, in order (default: $COMPOSE_FILE, else "
                 "compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml here, "
                 "with its override file)")
      ->allow_extra_args(false);
  app.add_option("-p,--project-name", project_name,
                 "The fleet's name (default: $COMPOSE_PROJECT_NAME, else the file's name:, else "
                 "its directory's name)");
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

Result<fleet::FleetSpec> FleetSource::Load() const {
  bool command_line = !flags.vm.empty() || !flags.services.empty();
  if (command_line && !files.empty())
    return Error(ErrorKind::kUsage, "give either -f FILE or --vm/--service, not both");
  if (command_line && !profiles.empty())
    return Error(ErrorKind::kUsage, "--profile selects services of a compose file");
  if (!command_line && (!flags.workdir.empty() || !flags.hosts.empty()))
    return Error(ErrorKind::kUsage, "--workdir and --hosts belong to --vm/--service");
  std::string cwd = VK_TRY(WorkingDirectory());
  if (command_line) {
    fleet::FleetFlags named = flags;
    named.name = project_name.empty() ? EnvironmentName() : project_name;
    return fleet::FleetFromFlags(named, cwd);
  }
  fleet::ComposeOptions options;
  options.files = files;
  options.dir = cwd;
  options.project_name = project_name;
  options.profiles = profiles;
  return fleet::LoadComposeFile(options);
}

Result<FleetTarget> FleetSource::Target() const {
  bool command_line = !flags.vm.empty() || !flags.services.empty();
  if (!command_line && files.empty()) {
    std::string name = project_name;
    if (name.empty() && !HasComposeFile()) name = EnvironmentName();
    if (!name.empty()) {
      VK_TRY_CTX(fleet::CheckFleetName(name),
                 project_name.empty() ? "COMPOSE_PROJECT_NAME" : "--project-name");
      return FleetTarget{name, std::nullopt};
    }
  }
  auto spec = Load();
  bool no_file = !spec.ok() && spec.error().kind() == ErrorKind::kNotFound && !command_line &&
                 files.empty() && !HasComposeFile();
  if (no_file) {
    return Error(ErrorKind::kNotFound,
                 spec.error().message() + ", or a running fleet with -p NAME");
  }
  if (!spec.ok()) return std::move(spec).error();
  std::string name = spec->name;
  return FleetTarget{std::move(name), std::move(*spec)};
}

std::vector<std::string> FleetSource::Arguments() const {
  std::vector<std::string> args;
  auto add = [&](const char* option, const std::string& value) {
    if (value.empty()) return;
    args.push_back(option);
    args.push_back(value);
  };
  for (const std::string& f : files) add("--file", f);
  add("--project-name", project_name);
  for (const std::string& p : profiles) add("--profile", p);
  add("--vm", flags.vm);
  add("--workdir", flags.workdir);
  for (const std::string& s : flags.services) add("--service", s);
  for (const std::string& h : flags.hosts) add("--hosts", h);
  return args;
}

}  // namespace vk::cli
