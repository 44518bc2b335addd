#include <ctime>

#include "lib/errors.h"
#include "lib/exec.h"
#include "lib/vm_state.h"
#include "net/cidr.h"
#include "net/lan.h"

namespace virtkit {
namespace internal {

std::string VmId(const vk::VmRecord& record) {
  return std::to_string(record.pid) + "-" + std::to_string(record.pid_start_time);
}

std::vector<PortForward> PortsOf(const vk::VmRecord& record) {
  std::vector<PortForward> ports;
  for (const std::string& spec : record.publish) {
    auto parsed = vk::net::ParsePortForward(spec);
    if (!parsed.ok()) continue;  // written by vk itself: valid unless tampered with
    PortForward port;
    port.host_port = parsed->host_port;
    port.guest_port = parsed->guest_port;
    port.protocol = parsed->udp ? Protocol::kUdp : Protocol::kTcp;
    if (parsed->host_ip != 0) port.host_address = vk::net::FormatIpv4(parsed->host_ip);
    ports.push_back(port);
  }
  return ports;
}

VmStatus StatusOf(const vk::NamedVm& vm) {
  VmStatus status;
  status.name = vm.name();
  status.ports = PortsOf(vm.record());
  status.id = VmId(vm.record());
  status.active = vm.Running();
  status.exit_code = vm.record().exit_code;
  if (status.active && vm.record().created > 0) {
    status.uptime =
        std::chrono::seconds(std::max<int64_t>(0, std::time(nullptr) - vm.record().created));
  }
  return status;
}

}  // namespace internal

namespace {

// Grace a dropped non-detached handle gives the guest to power off.
constexpr auto kDropGrace = std::chrono::seconds(3);

Result<vk::NamedVm> Find(const Vm::State& state) {
  auto vm = vk::NamedVm::Find(state.name, state.vms_root);
  if (!vm.ok()) return internal::FromVk(vm.error());
  return std::move(*vm);
}

}  // namespace

Vm::Vm(std::unique_ptr<State> state) : state_(std::move(state)) {}
Vm::Vm(Vm&&) noexcept = default;

Vm& Vm::operator=(Vm&& other) noexcept {
  if (this != &other) {
    Vm dropped(std::move(*this));  // this VM's own cleanup, as if destroyed
    state_ = std::move(other.state_);
  }
  return *this;
}

Vm::~Vm() {
  if (!state_ || !state_->owned || state_->removed) return;
  (void)Stop(kDropGrace);
  (void)Remove();
}

const std::string& Vm::Name() const { return state_->name; }
const std::string& Vm::Id() const { return state_->id; }
const std::string& Vm::DataDir() const { return state_->dir; }
const std::vector<PortForward>& Vm::Ports() const { return state_->ports; }

VmStatus Vm::Status() const {
  VmStatus status;
  if (auto vm = Find(*state_)) status = internal::StatusOf(*vm);
  status.name = state_->name;
  if (status.id.empty()) status.id = state_->id;
  status.ports = state_->ports;
  status.image = state_->image;
  return status;
}

Result<ExecResult> Vm::Exec(const std::vector<std::string>& argv, const ExecOptions& options) {
  auto vm = Find(*state_);
  if (!vm) return vm.error().Context("exec in " + state_->name);
  auto connection = vm->ConnectExec();
  if (!connection.ok()) return internal::FromVk(connection.error()).Context("exec");
  return internal::RunExec(std::move(*connection), argv, state_->env, options);
}

Result<void> Vm::Stop(std::chrono::milliseconds timeout) {
  auto vm = Find(*state_);
  if (!vm) return vm.error().Context("stop " + state_->name);
  vm->Stop(timeout);
  if (vm->Running()) return Error(ErrorKind::kTimeout, "stop " + state_->name + ": still running");
  return Ok();
}

Result<std::optional<int>> Vm::Wait() {
  auto vm = Find(*state_);
  if (!vm) return vm.error().Context("wait for " + state_->name);
  if (auto gone = vm->WaitUntilGone(); !gone.ok()) {
    return internal::FromVk(gone.error()).Context("wait for " + state_->name);
  }
  return vm->record().exit_code;
}

Result<void> Vm::Remove() {
  auto vm = Find(*state_);
  if (!vm) {
    if (vm.error().kind() == ErrorKind::kNotFound && state_->removed) return Ok();
    return vm.error().Context("remove " + state_->name);
  }
  auto removed = vm->Remove(vk::RemoveMode::kKillRunning);
  if (!removed.ok()) return internal::FromVk(removed.error()).Context("remove " + state_->name);
  state_->removed = true;
  return Ok();
}

}  // namespace virtkit
