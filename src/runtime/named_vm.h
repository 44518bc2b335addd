// A named VM on this host, whoever started it (`vk run -d`, `vk launch -d`,
// the library's Run()): found by name through its VmDir and acted on there.
// `vk ps/exec/stop/wait/rm/logs/checkpoint`, the library's Attach()/List()
// and its Vm go through this type; none of them names a state file.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/remove_tree.h"
#include "base/result.h"
#include "base/unique_fd.h"
#include "runtime/vm_dir.h"
#include "runtime/vm_state.h"

namespace vk {

enum class StopOutcome { kNotRunning, kPoweredOff, kKilled };
enum class RemoveMode { kRefuseRunning, kKillRunning };
enum class LogKind { kVmm, kConsole };  // vm.log (VMM + detached command), console.log

class NamedVm {
 public:
  // ErrorKind::kNotFound when there is no such VM; a bad name is kUsage.
  // `root` is the VMs directory to look in (VmDir::RootFor), default
  // VmDir::Root().
  static Result<NamedVm> Find(const std::string& name, const std::string& root = "");
  // Every named VM, by name.
  static std::vector<NamedVm> List(const std::string& root = "");

  const std::string& name() const { return record_.name; }
  const VmDir& dir() const { return dir_; }
  // The record as last read (Find, Refresh, Wait).
  const VmRecord& record() const { return record_; }
  Result<void> Refresh();
  VmState State() const { return StateOf(record_); }
  bool Running() const { return State() == VmState::kRunning; }

  // The agent's exec socket, connected (proto/exec_session.h speaks on it).
  Result<UniqueFd> ConnectExec() const;
  // A guest vsock port through the VM's vsock socket.
  Result<UniqueFd> ConnectGuestPort(uint32_t port) const;
  // The VMM's control socket (runtime/vmm_control.h), e.g. for checkpoints.
  std::string VmmSocket() const { return dir_.VmmSocket(); }
  std::string LogPath(LogKind kind) const;

  // Asks the guest to power off, then SIGKILLs the VMM after `grace`. The
  // VMM's pid is signalled only while its start time still matches the
  // record's, so a reused pid is never hit.
  StopOutcome Stop(std::chrono::milliseconds grace);
  // Blocks until the VMM is gone (or `deadline`: ErrorKind::kTimeout), then
  // re-reads the record (its exit code, or checkpointed).
  Result<void> WaitUntilGone(std::chrono::steady_clock::time_point deadline =
                                 std::chrono::steady_clock::time_point::max());
  // Removes the VM's state directory; a running VM is refused
  // (ErrorKind::kConflict) or killed first, by `mode`.
  Result<void> Remove(RemoveMode mode);

 private:
  NamedVm(VmDir dir, VmRecord record) : dir_(std::move(dir)), record_(std::move(record)) {}
  Result<void> CheckRunning() const;

  VmDir dir_;
  VmRecord record_;
};

}  // namespace vk
