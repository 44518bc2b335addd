#include "runtime/named_vm.h"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "base/private_dir.h"
#include "base/unix_socket.h"
#include "proto/vsock_stream.h"

namespace vk {
namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(50);
// After SIGKILL the kernel frees the VMM at once; this only bounds a wait on
// a process stuck in uninterruptible sleep (a hung disk).
constexpr auto kKillTimeout = std::chrono::seconds(5);

// The agent's control port answers "poweroff" by powering the guest off;
// the reply is the connection closing when the guest goes away.
void RequestPowerOff(const std::string& control_socket) {
  auto connected = ConnectUnix(control_socket);
  if (!connected.ok()) return;
  UniqueFd fd = std::move(*connected);
  if (::send(fd.get(), "poweroff\n", 9, MSG_NOSIGNAL) != 9) return;
  char byte;
  (void)::recv(fd.get(), &byte, 1, 0);
}

bool WaitWhileAlive(const VmRecord& record, std::chrono::steady_clock::time_point deadline) {
  while (VmmAlive(record)) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
  return true;
}

}  // namespace

Result<NamedVm> NamedVm::Find(const std::string& name, const std::string& root) {
  VmDir dir = VK_TRY(VmDir::Named(name, root));
  // Someone else's VMs directory could hold a fake exec.sock that would
  // receive our commands and input.
  if (std::string in = root.empty() ? VK_TRY(VmDir::Root()) : root;
      ::access(in.c_str(), F_OK) == 0) {
    VK_TRY(CheckPrivateDirectory(in));
  }
  auto record = ReadVmRecord(dir);
  if (!record.ok()) return Error(ErrorKind::kNotFound, "no VM named " + name);
  return NamedVm(std::move(dir), std::move(*record));
}

std::vector<NamedVm> NamedVm::List(const std::string& root) {
  std::vector<NamedVm> vms;
  auto in = root.empty() ? VmDir::Root() : Result<std::string>(root);
  if (!in.ok()) return vms;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(*in, error)) {
    if (auto vm = Find(entry.path().filename().string(), *in); vm.ok()) {
      vms.push_back(std::move(*vm));
    }
  }
  std::sort(vms.begin(), vms.end(),
            [](const NamedVm& a, const NamedVm& b) { return a.name() < b.name(); });
  return vms;
}

Result<void> NamedVm::Refresh() {
  record_ = VK_TRY(ReadVmRecord(dir_));
  return Ok();
}

Result<void> NamedVm::CheckRunning() const {
  if (Running()) return Ok();
  return Error(ErrorKind::kConflict, "VM " + name() + " is not running");
}

Result<UniqueFd> NamedVm::ConnectExec() const {
  VK_TRY(CheckRunning());
  return ConnectUnix(dir_.ExecSocket()).Context(name());
}

Result<UniqueFd> NamedVm::ConnectGuestPort(uint32_t port) const {
  VK_TRY(CheckRunning());
  return proto::ConnectVsockPort(dir_.VsockSocket(), port).Context(name());
}

std::string NamedVm::LogPath(LogKind kind) const {
  return kind == LogKind::kConsole ? dir_.ConsoleLog() : dir_.VmmLog();
}

StopOutcome NamedVm::Stop(std::chrono::milliseconds grace) {
  if (!VmmAlive(record_)) return StopOutcome::kNotRunning;
  // Detached: a guest that never answers must not hold the caller past grace.
  std::thread(RequestPowerOff, dir_.ControlSocket()).detach();
  StopOutcome outcome = StopOutcome::kPoweredOff;
  if (!WaitWhileAlive(record_, std::chrono::steady_clock::now() + grace)) {
    if (VmmAlive(record_)) ::kill(record_.pid, SIGKILL);  // re-checked: pid and start time
    outcome = StopOutcome::kKilled;
    WaitWhileAlive(record_, std::chrono::steady_clock::now() + kKillTimeout);
  }
  (void)Refresh();
  return outcome;
}

Result<void> NamedVm::WaitUntilGone(std::chrono::steady_clock::time_point deadline) {
  if (!WaitWhileAlive(record_, deadline)) {
    return Error(ErrorKind::kTimeout, name() + " is still running");
  }
  return Refresh();
}

Result<void> NamedVm::Remove(RemoveMode mode) {
  if (VmmAlive(record_)) {
    if (mode == RemoveMode::kRefuseRunning) {
      return Error(ErrorKind::kConflict,
                   name() + " is running: stop it first (vk stop " + name() + ") or use -f");
    }
    ::kill(record_.pid, SIGKILL);
    WaitWhileAlive(record_, std::chrono::steady_clock::now() + kKillTimeout);
  }
  RemoveOutcome outcome = VK_TRY(dir_.Remove());
  if (outcome == RemoveOutcome::kAbsent) {
    return Error(ErrorKind::kNotFound, "no VM named " + name());
  }
  return Ok();
}

}  // namespace vk
