// Unit: one service of a running fleet and the thread that supervises its
// VM. The thread waits until the unit is wanted, then until its
// dependencies allow it to start (start_order.h), boots the VM through the
// library (virtkit::Run, detached, on the fleet LAN), copies its output into
// the service's fleet log, runs its health check (health_tracker.h), and
// when the VM ends applies the restart policy with back-off
// (restart_backoff.h). Start/Stop/Restart come from `vk fleet` and virtctl,
// on other threads; they only change what is wanted and wait for the
// supervisor thread to get there.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "fleet/fleet_spec.h"
#include "fleet/health_tracker.h"
#include "fleet/request_server.h"
#include "fleet/restart_backoff.h"
#include "fleet/start_order.h"
#include "proto/virtctl.h"
#include "virtkit/virtkit.h"

namespace vk::fleet {

class Unit;

// The image a service runs: its `image`, else the name its `build` is tagged
// with ("<fleet>-<service>:latest", compose's).
std::string ServiceImageName(const std::string& fleet, const ServiceSpec& service);

// What a unit needs from its fleet (the controller provides it).
struct UnitContext {
  std::string fleet;
  std::string vm_name;
  std::string lan_socket;
  std::string log_path;  // this service's fleet log
  uint32_t address = 0;
  std::vector<std::string> published;
  // Another unit's state, for depends_on (nullopt: no such unit running here).
  std::function<std::optional<UnitView>(const std::string& service)> view_of;
  // A server for this unit's virtctl socket (its VM's vsock.sock_4446).
  std::function<Result<std::unique_ptr<RequestServer>>(Unit& unit, const std::string& path)>
      serve_virtctl;
};

class Unit {
 public:
  Unit(ServiceSpec spec, UnitContext context);
  ~Unit();  // stops the VM and joins the thread
  Unit(const Unit&) = delete;
  Unit& operator=(const Unit&) = delete;

  const ServiceSpec& spec() const { return spec_; }
  // May this unit's VM start, stop and restart others with virtctl?
  bool MayControl() const { return spec_.dev || spec_.control; }

  // Wanted running; waits until it runs (or failed, or `deadline`).
  Result<void> Start(std::chrono::steady_clock::time_point deadline);
  // Not wanted; waits until its VM is gone.
  Result<void> Stop(std::chrono::steady_clock::time_point deadline);
  // Wanted running without waiting (the controller's `up`).
  void Want();

  UnitView View() const;
  proto::UnitInfo Info() const;

 private:
  enum class State { kStopped, kWaiting, kStarting, kRunning, kExited, kBackoff, kFailed };
  static const char* StateName(State state);

  void Supervise();
  bool WaitForDependencies();
  Result<virtkit::Vm> Boot();
  virtkit::Options VmOptions() const;
  struct RunEnd {
    std::optional<int> exit_code;  // nullopt: the VM ended without one (or never booted)
    ExitCause cause = ExitCause::kExited;
  };
  RunEnd Watch(virtkit::Vm& vm, Clock::time_point started);
  // The health check this run of the VM gets (the file's over the image's);
  // nullopt: none.
  std::optional<Healthcheck> RunningHealthcheck() const;
  void Probe(virtkit::Vm& vm, const Healthcheck& check, HealthTracker& tracker);
  void CopyOutput(const std::string& vm_log, uint64_t& offset);
  void Ended(const RunEnd& end, Clock::time_point started, std::unique_lock<std::mutex>& lock);
  bool StopWanted() const;
  void Note(const std::string& line) const;
  void SetState(State state);

  const ServiceSpec spec_;
  const UnitContext context_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool wanted_ = false;
  bool quit_ = false;
  uint64_t runs_ = 0;  // VMs that reached running: Start() waits for the next one
  State state_ = State::kStopped;
  std::string reason_;  // why it is waiting or failed
  std::optional<int> exit_code_;
  Clock::time_point running_since_{};
  UnitHealth health_ = UnitHealth::kNone;
  RestartTracker restarts_;

  std::thread thread_;
};

}  // namespace vk::fleet
