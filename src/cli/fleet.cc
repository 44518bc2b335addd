// `vk fleet`: a dev VM and service VMs on one LAN, like docker compose but
// as microVMs (docs/fleet.md). `config` prints the resolved fleet; `up`
// starts its controller (fleet_up.cc), which the other subcommands ask over
// the fleet's controller.sock (proto/virtctl.h); `logs` and `exec` go to the
// files and VMs directly. All but `config`, `up` and `controller` also work
// on a fleet named by -p alone, without its compose file (FleetSource::Target).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "base/spawn.h"
#include "base/unix_socket.h"
#include "cli/command.h"
#include "cli/fleet_commands.h"
#include "fleet/controller.h"
#include "fleet/fleet_yaml.h"
#include "proto/virtctl_client.h"
#include "proto/virtctl_text.h"

namespace vk::cli {
namespace {

Result<fleet::FleetSpec> LoadQuietly(const FleetSource& source) { return source.Load(); }

Result<fleet::FleetDir> DirOf(const FleetSource& source) {
  FleetTarget target = VK_TRY(source.Target());
  return fleet::FleetDir::Named(target.name);
}

// A fleet named by -p alone is known by its state directory only.
Result<void> CheckUp(const FleetTarget& target, const fleet::FleetDir& dir) {
  if (target.spec || ::access(dir.path().c_str(), F_OK) == 0) return Ok();
  return Error(ErrorKind::kNotFound,
               "fleet " + target.name + " is not up (start it with `vk fleet up`)");
}

int RunConfig(const FleetSource& source) {
  auto fleet = source.Load();
  if (!fleet.ok()) return Fail("fleet config", fleet.error());
  for (const std::string& warning : fleet->warnings) {
    std::fprintf(stderr, "vk fleet config: warning: %s\n", warning.c_str());
  }
  std::fputs(fleet::FleetToYaml(*fleet).c_str(), stdout);
  return 0;
}

int RunRequest(const char* command, const FleetSource& source, proto::VirtctlOp op,
               const std::vector<std::string>& units) {
  auto dir = DirOf(source);
  if (!dir.ok()) return Fail(command, dir.error());
  std::vector<std::string> targets = units.empty() ? std::vector<std::string>{""} : units;
  int status = 0;
  for (const std::string& unit : targets) {
    proto::VirtctlRequest request{op, unit, false};
    auto reply = AskFleet(*dir, request);
    if (!reply.ok()) return Fail(command, reply.error());
    if (!reply->ok) {
      std::fprintf(stderr, "vk %s: %s\n", command, reply->error.c_str());
      status = 1;
      continue;
    }
    if (op == proto::VirtctlOp::kList)
      std::fputs(proto::FormatUnitTable(reply->units).c_str(), stdout);
    if (!reply->message.empty()) std::printf("%s\n", reply->message.c_str());
  }
  return status;
}

// The services `logs` shows: `given`, else all; the file's services, or
// with -p alone those with a log in the fleet's directory.
Result<std::vector<std::string>> LogServices(const FleetTarget& target, const fleet::FleetDir& dir,
                                             const std::vector<std::string>& given) {
  VK_TRY(CheckUp(target, dir));
  std::vector<std::string> known;
  if (target.spec) {
    for (const fleet::ServiceSpec& s : target.spec->services) known.push_back(s.name);
  } else {
    known = dir.LoggedServices();
  }
  for (const std::string& name : given) {
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    if (target.spec) return Error(ErrorKind::kNotFound, "no service \"" + name + "\"");
    std::string logged;
    for (const std::string& k : known) logged += (logged.empty() ? "" : ", ") + k;
    return Error(ErrorKind::kNotFound, "fleet " + target.name + " has no log of service \"" + name +
                                           "\" (it has: " + (logged.empty() ? "none" : logged) +
                                           ")");
  }
  return given.empty() ? known : given;
}

// `logs`: the service logs the controller keeps, read from its files (they
// are there while the fleet is up, also while its controller is busy).
int RunLogs(const FleetSource& source, const std::vector<std::string>& services, bool follow) {
  auto target = source.Target();
  if (!target.ok()) return Fail("fleet logs", target.error());
  auto dir = fleet::FleetDir::Named(target->name);
  if (!dir.ok()) return Fail("fleet logs", dir.error());
  auto names = LogServices(*target, *dir, services);
  if (!names.ok()) return Fail("fleet logs", names.error());
  return FollowServiceLogs(*dir, *names, follow, names->size() > 1);
}

// `exec SERVICE -- CMD`: `vk exec` on the service's VM, with a terminal when
// this one has one (as compose's exec). With -p alone, `vk exec` says
// whether the fleet has that service's VM.
int RunExec(const FleetSource& source, const std::string& service) {
  auto target = source.Target();
  if (!target.ok()) return Fail("fleet exec", target.error());
  if (target->spec && target->spec->Find(service) == nullptr)
    return Fail("fleet exec", Error(ErrorKind::kNotFound,
                                    "no service \"" + service + "\" in fleet " + target->name));
  auto dir = fleet::FleetDir::Named(target->name);
  if (!dir.ok()) return Fail("fleet exec", dir.error());
  if (auto up = CheckUp(*target, *dir); !up.ok()) return Fail("fleet exec", up.error());
  auto vm = fleet::ServiceVmName(target->name, service);
  if (!vm.ok()) return Fail("fleet exec", vm.error());
  std::vector<std::string> argv = {SelfExecutable(), "exec"};
  if (::isatty(STDIN_FILENO)) argv.push_back("-it");
  argv.push_back(*vm);
  argv.push_back("--");
  argv.insert(argv.end(), GuestCommand().begin(), GuestCommand().end());
  std::vector<char*> pointers;
  for (std::string& arg : argv) pointers.push_back(arg.data());
  pointers.push_back(nullptr);
  ::execv(argv[0].c_str(), pointers.data());
  return Fail("fleet exec", Error::FromErrno("run " + argv[0]));
}

int RunController(const FleetSource& source, const std::vector<std::string>& services) {
  auto spec = LoadQuietly(source);
  if (!spec.ok()) return Fail("fleet controller", spec.error());
  auto ran = fleet::RunController(*spec, services);
  if (!ran.ok()) return Fail("fleet controller", ran.error());
  return 0;
}

struct FleetArgs {
  FleetSource source;
  FleetUpArgs up;
  std::vector<std::string> services;
  std::string service;
  bool follow = false;
};

// The fleet's source options belong to `vk fleet` and may also follow the
// subcommand (fallthrough), except where the subcommand has the same flag:
// `vk fleet -f FILE logs -f` (compose's own -f conflict, solved its way).
CLI::App* Sub(CLI::App& app, const char* name, const char* description, FleetArgs&) {
  return app.add_subcommand(name, description);
}

}  // namespace

Result<proto::VirtctlReply> AskFleet(const fleet::FleetDir& dir,
                                     const proto::VirtctlRequest& request,
                                     const std::function<void(std::string_view)>& on_log) {
  auto fd = ConnectUnix(dir.ControllerSocket());
  if (!fd.ok())
    return Error(ErrorKind::kNotFound,
                 "fleet " + dir.name() + " is not up (start it with `vk fleet up`)");
  return proto::ExchangeVirtctl(fd->get(), request, on_log);
}

namespace {

Runner Setup(CLI::App& app) {
  auto a = std::make_shared<FleetArgs>();
  app.require_subcommand(1);
  app.fallthrough();
  a->source.Add(app);
  CLI::App* config = Sub(app, "config", "Print the resolved fleet as YAML", *a);
  CLI::App* up = Sub(app, "up", "Start the fleet (and attach to the dev VM's shell)", *a);
  up->add_flag("-d,--detach", a->up.detach, "Start in the background and return");
  up->add_option("services", a->up.services, "Only these services (and what they depend on)");
  CLI::App* down = Sub(app, "down", "Stop every VM of the fleet and remove its state", *a);
  CLI::App* ps = Sub(app, "ps", "List the fleet's services", *a);
  CLI::App* logs = Sub(app, "logs", "Print services' output", *a);
  logs->add_flag("-f,--follow", a->follow, "Keep printing while the fleet runs");
  logs->add_option("services", a->services, "Services (default: all, prefixed)");
  CLI::App* exec = Sub(app, "exec", "Run a command in a service's VM: exec SERVICE -- CMD", *a);
  exec->add_option("service", a->service, "The service")->required();
  CLI::App* start = Sub(app, "start", "Start services (and what they depend on)", *a);
  CLI::App* stop = Sub(app, "stop", "Stop services", *a);
  CLI::App* restart = Sub(app, "restart", "Stop and start services", *a);
  for (CLI::App* sub : {start, stop, restart})
    sub->add_option("services", a->services, "Services")->required();
  CLI::App* controller = Sub(app, "controller", "", *a);  // hidden: what `up` runs
  controller->add_option("services", a->services, "");
  controller->group("");
  return [=]() -> int {
    if (config->parsed()) return RunConfig(a->source);
    if (up->parsed()) return RunFleetUp(a->source, a->up);
    if (down->parsed()) return RunFleetDown(a->source);
    if (ps->parsed()) return RunRequest("fleet ps", a->source, proto::VirtctlOp::kList, {});
    if (logs->parsed()) return RunLogs(a->source, a->services, a->follow);
    if (exec->parsed()) return RunExec(a->source, a->service);
    if (start->parsed())
      return RunRequest("fleet start", a->source, proto::VirtctlOp::kStart, a->services);
    if (stop->parsed())
      return RunRequest("fleet stop", a->source, proto::VirtctlOp::kStop, a->services);
    if (restart->parsed())
      return RunRequest("fleet restart", a->source, proto::VirtctlOp::kRestart, a->services);
    if (controller->parsed()) return RunController(a->source, a->services);
    return kExitUsage;
  };
}

Command kFleet("fleet", "A dev VM and service VMs on one LAN, from a compose file", &Setup);

}  // namespace
}  // namespace vk::cli
