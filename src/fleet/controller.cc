#include "fleet/controller.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "base/private_dir.h"
#include "fleet/start_order.h"

namespace vk::fleet {
namespace {

// A VM boot is ~30 s here and minutes on a loaded PVM host; a start request
// waits that long before answering that the unit is not up yet.
constexpr auto kStartDeadline = std::chrono::minutes(15);
constexpr auto kStopDeadline = std::chrono::minutes(2);

proto::VirtctlReply Refused(std::string error) {
  proto::VirtctlReply reply;
  reply.ok = false;
  reply.error = std::move(error);
  return reply;
}

bool Changes(proto::VirtctlOp op) {
  return op == proto::VirtctlOp::kStart || op == proto::VirtctlOp::kStop ||
         op == proto::VirtctlOp::kRestart;
}

Result<sigset_t> BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int signo : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, signo);
  if (int err = ::pthread_sigmask(SIG_BLOCK, &set, nullptr); err != 0)
    return Error::FromErrno("pthread_sigmask", err);
  return set;
}

}  // namespace

Controller::Controller(const FleetSpec& spec, FleetDir dir, NetworkPlan plan)
    : spec_(spec), dir_(std::move(dir)), plan_(std::move(plan)) {}

Controller::~Controller() {
  closing_ = true;  // from now on requests may only look
  // Stopping first also ends requests that wait for a unit to start, so
  // the server's handlers can be joined.
  StopAll();
  server_.reset();
  units_.clear();
  network_.reset();
}

Result<void> Controller::Start(const std::vector<std::string>& wanted) {
  network_ = VK_TRY(FleetNetwork::Start(plan_, dir_.LanSocket()));
  for (const ServiceSpec& service : spec_.services) {
    UnitContext context;
    context.fleet = spec_.name;
    context.vm_name = VK_TRY(ServiceVmName(spec_.name, service.name));
    context.lan_socket = dir_.LanSocket();
    context.log_path = dir_.ServiceLog(service.name);
    context.address = plan_.addresses.at(service.name);
    context.published = plan_.published[service.name];
    context.view_of = [this](const std::string& name) -> std::optional<UnitView> {
      auto it = units_.find(name);
      if (it == units_.end()) return std::nullopt;
      return it->second->View();
    };
    context.serve_virtctl = [this](Unit& unit, const std::string& path) {
      std::string caller = unit.spec().name;
      return RequestServer::Listen(
          path, [this, caller](const proto::VirtctlRequest& request, RequestStream& out) {
            Handle(caller, request, out);
          });
    };
    units_[service.name] = std::make_unique<Unit>(service, std::move(context));
  }
  server_ = VK_TRY(RequestServer::Listen(
      dir_.ControllerSocket(), [this](const proto::VirtctlRequest& request, RequestStream& out) {
        Handle("", request, out);
      }));
  for (const std::string& name : StartOrder(spec_, wanted)) units_.at(name)->Want();
  return Ok();
}

Result<Unit*> Controller::Find(const std::string& name) {
  auto it = units_.find(name);
  if (it == units_.end())
    return Error(ErrorKind::kNotFound, "no service \"" + name + "\" in fleet " + spec_.name);
  return it->second.get();
}

void Controller::Handle(const std::string& caller, const proto::VirtctlRequest& request,
                        RequestStream& out) {
  proto::VirtctlReply reply;
  if (request.op == proto::VirtctlOp::kLogs) {
    if (auto unit = Find(request.unit); !unit.ok())
      return (void)out.Send(proto::EncodeVirtctlReply(Refused(unit.error().message())));
    StreamLogs(request.unit, request.follow, out);
    (void)out.Send(proto::EncodeVirtctlReply(reply));
    return;
  }
  if (request.op == proto::VirtctlOp::kList) {
    for (const auto& [name, unit] : units_) reply.units.push_back(unit->Info());
  } else if (request.op == proto::VirtctlOp::kStatus) {
    auto unit = Find(request.unit);
    if (!unit.ok())
      return (void)out.Send(proto::EncodeVirtctlReply(Refused(unit.error().message())));
    reply.units.push_back((*unit)->Info());
  } else {
    auto done = Control(caller, request);
    if (!done.ok())
      return (void)out.Send(proto::EncodeVirtctlReply(Refused(done.error().message())));
    reply.message = *done;
  }
  (void)out.Send(proto::EncodeVirtctlReply(reply));
  if (request.op == proto::VirtctlOp::kDown) ::kill(::getpid(), SIGTERM);
}

Result<std::string> Controller::Control(const std::string& caller,
                                        const proto::VirtctlRequest& request) {
  VK_TRY(CheckRight(caller, !caller.empty() && units_.at(caller)->MayControl(), request.op));
  if (closing_) return Error(ErrorKind::kConflict, "fleet " + spec_.name + " is going down");
  if (request.op == proto::VirtctlOp::kDown) return "fleet " + spec_.name + " going down";
  Unit* unit = VK_TRY(Find(request.unit));
  auto now = std::chrono::steady_clock::now();
  if (request.op == proto::VirtctlOp::kStop || request.op == proto::VirtctlOp::kRestart) {
    VK_TRY(unit->Stop(now + kStopDeadline));
    if (request.op == proto::VirtctlOp::kStop) return request.unit + " stopped";
  }
  // Like `up SERVICE`: what it depends on is started too.
  for (const std::string& name : StartOrder(spec_, {request.unit})) {
    if (name != request.unit) units_.at(name)->Want();
  }
  VK_TRY(unit->Start(now + kStartDeadline));
  return request.unit + (request.op == proto::VirtctlOp::kRestart ? " restarted" : " started");
}

void Controller::StreamLogs(const std::string& service, bool follow, RequestStream& out) {
  UniqueFd fd(::open(dir_.ServiceLog(service).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  char buffer[proto::kMaxLogChunk];
  for (;;) {
    ssize_t n = fd ? ::read(fd.get(), buffer, sizeof(buffer)) : 0;
    if (n > 0) {
      if (!out.Send(proto::EncodeLogChunk(std::string_view(buffer, static_cast<size_t>(n)))).ok())
        return;
      continue;
    }
    if (!follow || out.Done()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    if (!fd) fd = UniqueFd(::open(dir_.ServiceLog(service).c_str(), O_RDONLY | O_CLOEXEC));
  }
}

void Controller::StopAll() {
  std::vector<std::string> names;
  for (const auto& [name, unit] : units_) names.push_back(name);
  auto deadline = std::chrono::steady_clock::now() + kStopDeadline;
  for (const std::string& name : StopOrder(spec_, names)) {
    if (auto stopped = units_.at(name)->Stop(deadline); !stopped.ok())
      std::fprintf(stderr, "vk fleet: %s\n", stopped.error().message().c_str());
  }
}

Result<void> CheckRight(const std::string& caller, bool may_control, proto::VirtctlOp op) {
  if (caller.empty()) return Ok();
  if (op == proto::VirtctlOp::kDown)
    return Error(ErrorKind::kUsage, "refused: only `vk fleet down` on the host stops the fleet");
  if (Changes(op) && !may_control) {
    return Error(ErrorKind::kUsage,
                 "refused: " + caller + " may not " + std::string(proto::VirtctlOpName(op)) +
                     " units; only the dev VM and services with `x-virtkit: {control: true}` may");
  }
  return Ok();
}

Result<int> RemoveLeftovers(const FleetDir& dir, const std::vector<std::string>& services) {
  std::vector<std::string> all = dir.LoggedServices();
  for (const std::string& service : services) {
    if (std::find(all.begin(), all.end(), service) == all.end()) all.push_back(service);
  }
  int removed = 0;
  for (const std::string& service : all) {
    std::string name = VK_TRY(ServiceVmName(dir.name(), service));
    auto vm = virtkit::Attach(name);
    if (!vm) continue;
    if (auto gone = vm->Remove(); !gone)
      return Error("remove VM " + name + ": " + gone.error().message());
    ++removed;
  }
  if (::access(dir.path().c_str(), F_OK) == 0) {
    VK_TRY(dir.Remove());
    ++removed;
  }
  return removed;
}

Result<void> RunController(const FleetSpec& spec, const std::vector<std::string>& wanted) {
  sigset_t signals = VK_TRY(BlockStopSignals());
  ::signal(SIGPIPE, SIG_IGN);
  FleetDir dir = VK_TRY(FleetDir::Named(spec.name));
  if (auto live = LiveController(dir))
    return Error(ErrorKind::kConflict, "fleet " + spec.name + " is already up (controller pid " +
                                           std::to_string(live->pid) + ")");
  VK_TRY(dir.Create());
  {
    Controller controller(spec, dir, VK_TRY(PlanNetwork(spec)));
    VK_TRY(controller.Start(wanted));
    VK_TRY(WriteControllerRecord(dir));
    std::fprintf(stderr, "vk fleet: %s is up\n", spec.name.c_str());
    int signo = 0;
    ::sigwait(&signals, &signo);
    std::fprintf(stderr, "vk fleet: %s going down\n", spec.name.c_str());
  }
  return dir.Remove();
}

}  // namespace vk::fleet
