#include "fleet/unit.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "base/fd_io.h"
#include "base/private_dir.h"
#include "net/cidr.h"

namespace vk::fleet {

std::string ServiceImageName(const std::string& fleet, const ServiceSpec& service) {
  if (!service.image.empty()) return service.image;
  return fleet + "-" + service.name + ":latest";  // compose's name for a built image
}

Unit::Unit(ServiceSpec spec, UnitContext context)
    : spec_(std::move(spec)), context_(std::move(context)), restarts_(spec_.restart) {
  thread_ = std::thread([this] { Supervise(); });
}

Unit::~Unit() {
  {
    std::lock_guard lock(mutex_);
    quit_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

const char* Unit::StateName(State state) {
  switch (state) {
    case State::kStopped: return "stopped";
    case State::kWaiting: return "starting";
    case State::kStarting: return "starting";
    case State::kRunning: return "running";
    case State::kExited: return "exited";
    case State::kBackoff: return "restarting";
    case State::kFailed: return "failed";
  }
  return "stopped";
}

void Unit::Want() {
  {
    std::lock_guard lock(mutex_);
    wanted_ = true;
  }
  changed_.notify_all();
}

Result<void> Unit::Start(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  if (state_ == State::kRunning && wanted_) return Ok();
  uint64_t runs = runs_;
  wanted_ = true;
  restarts_.OnUserStart();
  if (state_ == State::kFailed || state_ == State::kExited) SetState(State::kStopped);
  changed_.notify_all();
  bool done = changed_.wait_until(lock, deadline, [&] {
    return runs_ > runs || state_ == State::kFailed || !wanted_ || quit_;
  });
  if (!done) return Error(ErrorKind::kTimeout, spec_.name + " did not start in time");
  if (state_ == State::kFailed) return Error(spec_.name + " failed to start: " + reason_);
  if (runs_ == runs) return Error(spec_.name + " was stopped before it started");
  return Ok();
}

Result<void> Unit::Stop(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  wanted_ = false;
  changed_.notify_all();
  bool done = changed_.wait_until(lock, deadline, [&] {
    return state_ == State::kStopped || state_ == State::kExited || state_ == State::kFailed;
  });
  if (!done) return Error(ErrorKind::kTimeout, spec_.name + " did not stop in time");
  return Ok();
}

UnitView Unit::View() const {
  std::lock_guard lock(mutex_);
  UnitView view;
  switch (state_) {
    case State::kStopped: view.phase = UnitPhase::kNotStarted; break;
    // Dependents fail with it: "stopped without an exit code" (start_order.h).
    case State::kFailed: view.phase = UnitPhase::kExited; break;
    case State::kWaiting:
    case State::kStarting:
    case State::kBackoff: view.phase = UnitPhase::kStarting; break;
    case State::kRunning: view.phase = UnitPhase::kRunning; break;
    case State::kExited: view.phase = UnitPhase::kExited; break;
  }
  view.health = health_;
  view.exit_code = exit_code_;
  return view;
}

proto::UnitInfo Unit::Info() const {
  std::lock_guard lock(mutex_);
  proto::UnitInfo info;
  info.name = spec_.name;
  info.state = StateName(state_);
  static const char* const kHealth[] = {"", "starting", "healthy", "unhealthy"};
  info.health = kHealth[static_cast<int>(health_)];
  info.address = net::FormatIpv4(context_.address);
  info.vm = context_.vm_name;
  info.ports = context_.published;
  info.restarts = restarts_.restarts();
  info.exit_code = exit_code_;
  if (state_ == State::kRunning) {
    info.uptime_seconds = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - running_since_).count());
  }
  info.dev = spec_.dev;
  return info;
}

void Unit::SetState(State state) {  // with mutex_ held
  state_ = state;
  changed_.notify_all();
}

void Unit::Note(const std::string& line) const {
  std::fprintf(stderr, "vk fleet: %s: %s\n", spec_.name.c_str(), line.c_str());
  auto fd = OpenPrivateFile(context_.log_path, O_WRONLY | O_APPEND);
  if (fd.ok()) (void)WriteAll(fd->get(), "vk fleet: " + line + "\n");
}

}  // namespace vk::fleet
