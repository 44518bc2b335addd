#include "runtime/launch_steps.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include "base/file_io.h"
#include "base/private_dir.h"
#include "proto/messages.h"

namespace vk {

bool HasCommand(const LaunchOptions& options) {
  return !options.command.empty() || options.attach_command.has_value();
}

Result<UniqueFd> OpenConsole(const LaunchOptions& options, const VmDir& run_dir) {
  if (options.console_path.empty() && !HasCommand(options)) {
    return UniqueFd(::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0));
  }
  // A restored VM's console goes on after what it printed before.
  const bool append = !options.restore_checkpoint.empty();
  if (!options.console_path.empty()) {  // the user's file (may be /dev/null): never chmod'ed
    return OpenUserOutputFile(options.console_path, append).Context("cannot open the console file");
  }
  return OpenPrivateFile(run_dir.ConsoleLog(), append ? O_APPEND : O_TRUNC)
      .Context("cannot open the console file");
}

Error ExplainStop(const MachineExit& exit, const std::string& tail, bool had_command) {
  if (exit.kind == ExitKind::kTimeout) {
    return Error(ErrorKind::kTimeout, "the guest did not finish before the timeout");
  }
  if (tail.find("Kernel panic") != std::string::npos) {
    return Error(ErrorKind::kGuestPanic, "the guest kernel panicked; last console lines:\n" + tail);
  }
  if (exit.kind == ExitKind::kInternalError) return Error(ErrorKind::kUsage, exit.detail);
  std::string what =
      exit.kind == ExitKind::kPowerOff ? "powered off" : "rebooted (" + exit.detail + ")";
  std::string message = "the guest " + what;
  if (had_command) message += " without reporting the command's exit status";
  if (tail.find("vk-agent:") != std::string::npos) message += "; console:\n" + tail;
  return Error(ErrorKind::kNoExitStatus, message);
}

unsigned ChooseVcpus(unsigned requested, KvmFlavor flavor) {
  unsigned cpus = BootableVcpus(flavor, requested);
  if (cpus != requested) {
    std::fprintf(stderr,
                 "vk: this host's KVM is PVM, which boots only 1 vCPU; using 1 of %u requested\n",
                 requested);
  }
  return cpus;
}

sandbox::ServedPaths SandboxPaths(const LaunchOptions& options, const std::string& run_dir) {
  sandbox::ServedPaths paths{.run_dir = run_dir};
  if (!options.root_dir.empty()) {
    paths.shares.push_back({options.root_dir, options.read_only ? sandbox::PathAccess::kReadOnly
                                                                : sandbox::PathAccess::kReadWrite});
  }
  for (const SharedDir& share : options.shares) {
    if (share.host_path.empty()) continue;  // virtual entries only: no host path to reach
    paths.shares.push_back({share.host_path, share.read_only ? sandbox::PathAccess::kReadOnly
                                                             : sandbox::PathAccess::kReadWrite});
  }
  return paths;
}

VmRecord RecordFor(const LaunchOptions& options, unsigned cpus, uint64_t memory_bytes) {
  VmRecord record;
  record.name = options.name;
  record.disk = !options.display_name.empty() ? options.display_name
                : !options.root_dir.empty()   ? options.root_dir
                                              : options.disk;
  record.cpus = cpus;
  record.memory_bytes = memory_bytes;
  record.pid = ::getpid();
  record.pid_start_time = ProcessStartTime(record.pid).value_or(0);
  record.created = static_cast<int64_t>(::time(nullptr));
  record.publish = options.network.publish;
  record.env = options.env;
  if (options.vmm != VmmKind::kVirtkit) record.vmm = std::string(VmmKindName(options.vmm));
  return record;
}

virtio::VsockConfig AgentVsockConfig(const LaunchOptions& options, const VmDir& run_dir) {
  virtio::VsockConfig vsock;
  vsock.uds_path = run_dir.VsockSocket();
  vsock.port_sockets = {{run_dir.ExecSocket(), kExecPort}, {run_dir.ControlSocket(), kControlPort}};
  for (const VsockPortLink& link : options.vsock_ports) {
    if (link.listen)
      vsock.port_sockets.push_back({ListenLinkTarget(run_dir, link.port), link.port});
  }
  return vsock;
}

std::string ListenLinkTarget(const VmDir& run_dir, uint32_t port) {
  return run_dir.path() + "/vsock-listen-" + std::to_string(port) + ".sock";
}

}  // namespace vk
