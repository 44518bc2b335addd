// Unit's supervisor thread (unit.h): dependencies, boot, watch, restart.
#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "base/fd_io.h"
#include "base/private_dir.h"
#include "base/spawn.h"
#include "fleet/image_healthcheck.h"
#include "fleet/unit.h"
#include "proto/virtctl.h"
#include "runtime/vm_dir.h"
#include "vmm/guest_assets.h"

namespace vk::fleet {
namespace {

// A dev VM without a command of its own idles, serving `vk fleet exec` and
// the attached shell (an image's `bash` Cmd would end at once without a
// terminal). The same loop as the GitLab executor's job VMs.
constexpr char kIdleCommand[] = "while :; do sleep 3600; done";
constexpr uint64_t kDefaultMemory = 1ull << 30;  // vk run's default
constexpr uint64_t kMiB = 1ull << 20;
constexpr auto kPollInterval = std::chrono::milliseconds(250);
constexpr auto kStopTimeout = std::chrono::seconds(10);
constexpr auto kBootTimeout = std::chrono::seconds(600);  // a loaded PVM host, cold
// A health check's output kept for `status`.
constexpr size_t kMaxProbeOutput = 4096;

std::vector<std::string> ProbeArgv(const Healthcheck& check) {
  if (check.kind == HealthTestKind::kCmdShell) {
    std::string script;
    for (const std::string& word : check.test) script += (script.empty() ? "" : " ") + word;
    return {"/bin/sh", "-c", script};
  }
  return check.test;
}

// What the guest gets of the host (vm-symlinks, and virtctl in the dev VM):
// a host file copied in, or vk-agent itself when that is the file named and
// the host has none installed there, or no host file is named (vk carries
// the agent embedded).
Result<void> Expose(virtkit::Rootfs& root, const VmSymlink& link) {
  if (!link.host.empty() && std::filesystem::exists(link.host)) {
    auto copied = root.CopyFile(link.host, link.guest);
    if (!copied) return Error(copied.error().message());
    return Ok();
  }
  if (!link.host.empty() && std::filesystem::path(link.host).filename() != "vk-agent")
    return Error(ErrorKind::kNotFound, "vm-symlinks: " + link.host + " does not exist on the host");
  std::span<const uint8_t> agent = EmbeddedAgent();
  if (agent.empty()) return Error("this vk has no embedded vk-agent to expose as " + link.guest);
  auto written = root.WriteFile(
      link.guest, std::string_view(reinterpret_cast<const char*>(agent.data()), agent.size()),
      0755);
  if (!written) return Error(written.error().message());
  return Ok();
}

std::vector<VmSymlink> Exposures(const ServiceSpec& spec) {
  std::vector<VmSymlink> links = spec.vm_symlinks;
  bool has_virtctl = false;
  for (const VmSymlink& link : links) has_virtctl |= link.guest == "/usr/local/bin/virtctl";
  if (spec.dev && !has_virtctl) links.push_back({"", "/usr/local/bin/virtctl"});
  return links;
}

}  // namespace

void Unit::Supervise() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return quit_ || wanted_; });
    if (quit_) return;
    lock.unlock();
    if (!WaitForDependencies()) {
      lock.lock();
      continue;
    }
    Clock::time_point started = Clock::now();
    RunEnd end;
    if (auto vm = Boot(); vm.ok()) {
      end = Watch(*vm, started);
    } else {
      Note("cannot start: " + vm.error().message());
    }
    lock.lock();
    Ended(end, started, lock);
  }
}

bool Unit::StopWanted() const {
  std::lock_guard lock(mutex_);
  return quit_ || !wanted_;
}

// Polls: dependencies change state on other units' threads, and a second
// of latency is nothing next to a VM boot.
bool Unit::WaitForDependencies() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (quit_ || !wanted_) {
      SetState(State::kStopped);
      return false;
    }
    lock.unlock();
    Readiness ready = CheckDependencies(spec_, context_.view_of);
    lock.lock();
    reason_ = ready.reason;
    if (ready.verdict == Readiness::Verdict::kReady) {
      SetState(State::kStarting);
      return true;
    }
    if (ready.verdict == Readiness::Verdict::kFailed) {
      wanted_ = false;
      SetState(State::kFailed);
      lock.unlock();
      Note("not started: " + ready.reason);
      return false;
    }
    SetState(State::kWaiting);
    changed_.wait_for(lock, std::chrono::milliseconds(500));
  }
}

virtkit::Options Unit::VmOptions() const {
  virtkit::Options o;
  o.name = context_.vm_name;
  o.hostname = spec_.hostname.empty() ? spec_.name : spec_.hostname;
  o.cpus = spec_.cpus > 0 ? static_cast<unsigned>(std::ceil(spec_.cpus)) : 1;
  o.memory_bytes =
      spec_.memory_bytes > 0 ? (spec_.memory_bytes + kMiB - 1) / kMiB * kMiB : kDefaultMemory;
  o.command = spec_.command.value_or(std::vector<std::string>{});
  o.entrypoint = spec_.entrypoint;
  if (spec_.dev && !spec_.command && !spec_.entrypoint) o.init = {"/bin/sh", "-c", kIdleCommand};
  for (const auto& [key, value] : spec_.environment) o.env.push_back(key + "=" + value);
  o.user = spec_.user;
  o.workdir = spec_.working_dir;
  for (const BindMount& volume : spec_.volumes)
    o.mounts.push_back({volume.source, volume.target, volume.read_only, ""});
  o.network.mode = virtkit::NetworkMode::kSwitch;
  o.network.switch_socket = context_.lan_socket;
  o.detach = true;
  o.boot_timeout = kBootTimeout;
  o.vk_program = SelfExecutable();  // VMs are supervised by this very vk
  std::vector<VmSymlink> exposures = Exposures(spec_);
  if (!exposures.empty()) {
    o.rootfs_hooks.push_back([exposures](virtkit::Rootfs& root) -> virtkit::Result<void> {
      for (const VmSymlink& link : exposures) {
        if (auto exposed = Expose(root, link); !exposed.ok())
          return virtkit::Error(virtkit::ErrorKind::kHook, exposed.error().message());
      }
      return virtkit::Ok();
    });
  }
  o.on_warning = [this](std::string_view text) { Note(std::string(text)); };
  return o;
}

Result<virtkit::Vm> Unit::Boot() {
  // A VM of this name left by a controller that crashed is this unit's own.
  if (auto stale = virtkit::Attach(context_.vm_name); stale) (void)stale->Remove();
  Note("starting " + ServiceImageName(context_.fleet, spec_));
  auto vm = virtkit::Run(ServiceImageName(context_.fleet, spec_), VmOptions());
  if (!vm) return Error(vm.error().message());
  return std::move(*vm);
}

// Read at each start: a restart after `vk fleet build` may run a new image.
std::optional<Healthcheck> Unit::RunningHealthcheck() const {
  std::optional<build::HealthConfig> image;
  if (InheritsFromImage(spec_.healthcheck)) {
    auto read = ReadImageHealthcheck(ServiceImageName(context_.fleet, spec_));
    if (read) {
      image = std::move(*read);
    } else {
      Note("the image's HEALTHCHECK is not used: " + read.error().message());
    }
  }
  return EffectiveHealthcheck(spec_.healthcheck, image);
}

Unit::RunEnd Unit::Watch(virtkit::Vm& vm, Clock::time_point started) {
  const std::optional<Healthcheck> healthcheck = RunningHealthcheck();
  {
    std::lock_guard lock(mutex_);
    running_since_ = started;
    health_ = healthcheck ? UnitHealth::kStarting : UnitHealth::kNone;
    ++runs_;
    SetState(State::kRunning);
  }
  Note("running");
  std::unique_ptr<RequestServer> virtctl;
  std::string virtctl_socket = VmDir::At(vm.DataDir()).GuestConnectSocket(proto::kVirtctlPort);
  if (auto server = context_.serve_virtctl(*this, virtctl_socket); server.ok()) {
    virtctl = std::move(*server);
  } else {
    Note("virtctl is not served: " + server.error().message());
  }
  std::optional<HealthTracker> tracker;
  if (healthcheck) tracker.emplace(*healthcheck, started);
  const std::string vm_log = vm.DataDir() + "/vm.log";
  uint64_t offset = 0;
  RunEnd end;
  for (;;) {
    CopyOutput(vm_log, offset);
    if (StopWanted()) {
      end.cause = ExitCause::kStoppedByUser;
      if (auto stopped = vm.Stop(kStopTimeout); !stopped) Note(stopped.error().message());
      break;
    }
    virtkit::VmStatus status = vm.Status();
    if (!status.active) {
      end.exit_code = status.exit_code;
      break;
    }
    if (tracker && Clock::now() >= tracker->NextProbe()) Probe(vm, *healthcheck, *tracker);
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, kPollInterval, [&] { return quit_ || !wanted_; });
  }
  virtctl.reset();
  CopyOutput(vm_log, offset);
  if (end.cause == ExitCause::kStoppedByUser) end.exit_code = vm.Status().exit_code;
  if (auto removed = vm.Remove(); !removed) Note(removed.error().message());
  return end;
}

void Unit::Probe(virtkit::Vm& vm, const Healthcheck& check, HealthTracker& tracker) {
  virtkit::ExecOptions options;
  options.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(check.timeout);
  auto result = vm.Exec(ProbeArgv(check), options);
  bool passed = result && result->exit_code == 0;
  std::string output =
      result ? result->stdout_text + result->stderr_text : result.error().message();
  if (output.size() > kMaxProbeOutput) output.resize(kMaxProbeOutput);
  UnitHealth health = tracker.OnProbe(passed, output, Clock::now());
  std::lock_guard lock(mutex_);
  if (health != health_) {
    health_ = health;
    changed_.notify_all();
  }
}

// The VM's output (vm.log: its command's stdout and stderr, and the VMM's
// notes) appended to the service's fleet log, which outlives each run.
void Unit::CopyOutput(const std::string& vm_log, uint64_t& offset) {
  UniqueFd in(::open(vm_log.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!in || ::lseek(in.get(), static_cast<off_t>(offset), SEEK_SET) < 0) return;
  auto out = OpenPrivateFile(context_.log_path, O_WRONLY | O_APPEND);
  if (!out.ok()) return;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(in.get(), buffer, sizeof(buffer));
    if (n <= 0) return;
    offset += static_cast<uint64_t>(n);
    if (!WriteAll(out->get(), std::string_view(buffer, static_cast<size_t>(n))).ok()) return;
  }
}

void Unit::Ended(const RunEnd& end, Clock::time_point started, std::unique_lock<std::mutex>& lock) {
  exit_code_ = end.exit_code;
  health_ = UnitHealth::kNone;
  auto delay = restarts_.OnExit(end.exit_code, end.cause, started, Clock::now());
  std::string how = end.exit_code ? "exited with " + std::to_string(*end.exit_code)
                                  : std::string("ended without an exit code");
  if (end.cause == ExitCause::kStoppedByUser || quit_ || !wanted_) {
    SetState(State::kStopped);
    return;
  }
  if (!delay) {
    wanted_ = false;
    SetState(end.exit_code ? State::kExited : State::kFailed);
    if (!end.exit_code) reason_ = how;
    lock.unlock();
    Note(how);
    lock.lock();
    return;
  }
  SetState(State::kBackoff);
  std::string policy = restarts_.Describe();
  lock.unlock();
  Note(how + "; restarting (" + policy + ")");
  lock.lock();
  changed_.wait_for(lock, *delay, [&] { return quit_ || !wanted_; });
  if (!wanted_ || quit_) SetState(State::kStopped);
}

}  // namespace vk::fleet
