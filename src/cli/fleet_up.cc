// `vk fleet up` and `vk fleet down`. `up` builds what has a `build:`,
// starts the fleet's controller in its own session (fleet/controller.h; its
// output goes to the fleet's controller.log), waits until the services it
// starts are up, and then returns (-d), attaches to the dev VM's shell, or
// shows the services' logs; leaving the shell or ^C takes the fleet down.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

#include "base/private_dir.h"
#include "base/spawn.h"
#include "cli/command.h"
#include "cli/fleet_commands.h"
#include "fleet/controller.h"
#include "fleet/start_order.h"
#include "fleet/unit.h"

namespace vk::cli {
namespace {

// The controller answers within a second of starting; this much is for a
// machine so loaded that even that crawls.
constexpr auto kControllerStartTimeout = std::chrono::minutes(2);
// Boots here take ~30 s each and minutes on a loaded PVM host; the first
// start of an image also pulls it and converts it.
constexpr auto kUpTimeout = std::chrono::minutes(30);
constexpr auto kDownTimeout = std::chrono::minutes(5);

using SteadyClock = std::chrono::steady_clock;

Result<void> BuildImages(const fleet::FleetSpec& spec) {
  for (const fleet::ServiceSpec& service : spec.services) {
    if (!service.build) continue;
    const fleet::BuildSpec& build = *service.build;
    std::vector<std::string> argv = {SelfExecutable(),
                                     "build",
                                     "--net",
                                     "-t",
                                     fleet::ServiceImageName(spec.name, service),
                                     "-f",
                                     build.context + "/" + build.dockerfile};
    if (!build.target.empty()) argv.insert(argv.end(), {"--target", build.target});
    for (const auto& [key, value] : build.args)
      argv.insert(argv.end(), {"--build-arg", key + "=" + value});
    argv.push_back(build.context);
    std::fprintf(stderr, "vk fleet up: building %s\n", service.name.c_str());
    ChildProcess child(VK_TRY(SpawnProcess(argv, {})));
    int status = child.Wait();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      return Error(ErrorKind::kImage, "building service \"" + service.name + "\" failed");
  }
  return Ok();
}

std::string LogTail(const std::string& path) {
  std::string text;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  char buffer[4096];
  for (ssize_t n; fd && (n = ::read(fd.get(), buffer, sizeof(buffer))) > 0;)
    text.append(buffer, static_cast<size_t>(n));
  if (text.size() > 2000) text.erase(0, text.size() - 2000);
  return text;
}

// Spawns `vk fleet controller` for this fleet in a session of its own and
// waits until it answers.
Result<ChildProcess> StartController(const FleetSource& source, const fleet::FleetDir& dir,
                                     const std::vector<std::string>& services) {
  VK_TRY(dir.Create());
  UniqueFd log = VK_TRY(OpenPrivateFile(dir.ControllerLog(), O_WRONLY | O_APPEND));
  UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null) return Error::FromErrno("open /dev/null");
  std::vector<std::string> argv = {SelfExecutable(), "fleet"};
  for (const std::string& arg : source.Arguments()) argv.push_back(arg);
  argv.push_back("controller");
  argv.insert(argv.end(), services.begin(), services.end());
  SpawnOptions options;
  options.stdio[0] = null.get();
  options.stdio[1] = options.stdio[2] = log.get();
  options.new_session = true;
  ChildProcess child(VK_TRY(SpawnProcess(argv, options)));
  auto deadline = SteadyClock::now() + kControllerStartTimeout;
  while (SteadyClock::now() < deadline) {
    if (child.WaitUntil(SteadyClock::now() + std::chrono::milliseconds(200))) {
      std::string log = LogTail(dir.ControllerLog());
      (void)dir.Remove();  // a fleet that never came up leaves nothing behind
      return Error("the fleet controller ended at once:\n" + log);
    }
    if (AskFleet(dir, {proto::VirtctlOp::kList, "", false}).ok()) return child;
  }
  return Error(ErrorKind::kTimeout,
               "the fleet controller did not answer; see " + dir.ControllerLog());
}

bool Settled(const proto::UnitInfo& unit) {
  return unit.state == "running" || unit.state == "exited" || unit.state == "failed";
}

// Until every unit in `names` runs, ended, or failed; prints each change.
// Returns how many failed.
Result<int> WaitForUnits(const fleet::FleetDir& dir, const std::vector<std::string>& names) {
  std::map<std::string, std::string> shown;
  auto deadline = SteadyClock::now() + kUpTimeout;
  while (SteadyClock::now() < deadline) {
    proto::VirtctlReply reply = VK_TRY(AskFleet(dir, {proto::VirtctlOp::kList, "", false}));
    int pending = 0, failed = 0;
    for (const proto::UnitInfo& unit : reply.units) {
      if (std::find(names.begin(), names.end(), unit.name) == names.end()) continue;
      std::string line = unit.state + (unit.health.empty() ? "" : " (" + unit.health + ")");
      if (shown[unit.name] != line) {
        std::fprintf(stderr, " %-12s %-22s %s\n", unit.name.c_str(), line.c_str(),
                     unit.address.c_str());
        shown[unit.name] = line;
      }
      pending += Settled(unit) ? 0 : 1;
      failed += unit.state == "failed" ? 1 : 0;
    }
    if (pending == 0) return failed;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  return Error(ErrorKind::kTimeout,
               "the fleet's services did not start in time; see `vk fleet ps`");
}

// Start requests to a running controller (`up` of a fleet that is up).
Result<void> StartInRunningFleet(const fleet::FleetDir& dir,
                                 const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    proto::VirtctlReply reply = VK_TRY(AskFleet(dir, {proto::VirtctlOp::kStart, name, false}));
    if (!reply.ok) std::fprintf(stderr, "vk fleet up: %s\n", reply.error.c_str());
  }
  return Ok();
}

volatile bool g_interrupted = false;
void OnInterrupt(int) { g_interrupted = true; }

// The dev VM's login shell, bash where the image has it.
int AttachShell(const std::string& vm) {
  std::vector<std::string> argv = {SelfExecutable(),
                                   "exec",
                                   "-it",
                                   vm,
                                   "--",
                                   "/bin/sh",
                                   "-c",
                                   "command -v bash >/dev/null 2>&1 && exec bash -l; exec sh -l"};
  auto pid = SpawnProcess(argv, {});
  if (!pid.ok()) return Fail("fleet up", pid.error());
  ChildProcess shell(*pid);
  int status = shell.Wait();
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

std::vector<std::string> ServiceNames(const fleet::FleetSpec& spec) {
  std::vector<std::string> names;
  for (const fleet::ServiceSpec& service : spec.services) names.push_back(service.name);
  return names;
}

// `services`: those of the fleet's file, if one was read; what the fleet
// started is found in its directory too (fleet::RemoveLeftovers).
int Down(const fleet::FleetDir& dir, const std::vector<std::string>& services,
         ChildProcess* controller) {
  bool was_up = fleet::LiveController(dir).has_value();
  if (was_up) {
    auto reply = AskFleet(dir, {proto::VirtctlOp::kDown, "", false});
    if (!reply.ok()) return Fail("fleet down", reply.error());
    auto deadline = SteadyClock::now() + kDownTimeout;
    if (controller != nullptr) {
      (void)controller->WaitUntil(deadline);
    } else {
      while (fleet::LiveController(dir) && SteadyClock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  // What a controller that crashed (or was killed) left behind.
  auto removed = fleet::RemoveLeftovers(dir, services);
  if (!removed.ok()) return Fail("fleet down", removed.error());
  if (!was_up && *removed == 0) {
    std::fprintf(stderr, "vk fleet down: fleet %s is not up\n", dir.name().c_str());
    return 0;
  }
  std::fprintf(stderr, "vk fleet down: fleet %s is down\n", dir.name().c_str());
  return 0;
}

}  // namespace

int RunFleetUp(const FleetSource& source, const FleetUpArgs& args) {
  auto spec = source.Load();
  if (!spec.ok()) return Fail("fleet up", spec.error());
  for (const std::string& warning : spec->warnings)
    std::fprintf(stderr, "vk fleet up: warning: %s\n", warning.c_str());
  // docker compose's "no service selected": a controller with nothing to
  // run would only wait for Ctrl-C.
  if (spec->services.empty())
    return Fail("fleet up",
                Error(ErrorKind::kUsage, "no service of fleet " + spec->name +
                                             " is enabled: each is in a profile; enable one with "
                                             "--profile NAME or COMPOSE_PROFILES"));
  for (const std::string& name : args.services) {
    if (spec->Find(name) == nullptr)
      return Fail("fleet up", Error(ErrorKind::kNotFound,
                                    "no service \"" + name + "\" in fleet " + spec->name));
  }
  for (const fleet::ServiceSpec& service : spec->services) {
    if (auto vm = fleet::ServiceVmName(spec->name, service.name); !vm.ok())
      return Fail("fleet up", vm.error());
  }
  if (auto built = BuildImages(*spec); !built.ok()) return Fail("fleet up", built.error());
  auto dir = fleet::FleetDir::Named(spec->name);
  if (!dir.ok()) return Fail("fleet up", dir.error());
  std::vector<std::string> names = fleet::StartOrder(*spec, args.services);
  std::optional<ChildProcess> controller;
  if (fleet::LiveController(*dir)) {
    if (auto started = StartInRunningFleet(*dir, names); !started.ok())
      return Fail("fleet up", started.error());
  } else {
    auto child = StartController(source, *dir, args.services);
    if (!child.ok()) return Fail("fleet up", child.error());
    controller.emplace(std::move(*child));
  }
  std::fprintf(stderr, "vk fleet up: fleet %s\n", spec->name.c_str());
  auto failed = WaitForUnits(*dir, names);
  if (!failed.ok()) return Fail("fleet up", failed.error());
  if (*failed > 0)
    std::fprintf(stderr, "vk fleet up: %d service(s) failed; see `vk fleet logs SERVICE`\n",
                 *failed);
  if (args.detach) {
    if (controller) controller->Release();  // it lives on in its own session
    return *failed > 0 ? 1 : 0;
  }
  const fleet::ServiceSpec* dev = spec->DevService();
  if (dev != nullptr && std::find(names.begin(), names.end(), dev->name) != names.end()) {
    (void)AttachShell(*fleet::ServiceVmName(spec->name, dev->name));
  } else {
    ::signal(SIGINT, OnInterrupt);
    ::signal(SIGTERM, OnInterrupt);
    (void)FollowServiceLogs(*dir, names, true, true, &g_interrupted);
  }
  return Down(*dir, ServiceNames(*spec), controller ? &*controller : nullptr);
}

int RunFleetDown(const FleetSource& source) {
  auto target = source.Target();
  if (!target.ok()) return Fail("fleet down", target.error());
  auto dir = fleet::FleetDir::Named(target->name);
  if (!dir.ok()) return Fail("fleet down", dir.error());
  return Down(*dir, target->spec ? ServiceNames(*target->spec) : std::vector<std::string>{},
              nullptr);
}

}  // namespace vk::cli
