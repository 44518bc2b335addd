#include "runtime/qemu_launch.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "base/event_loop.h"
#include "base/exit_codes.h"
#include "base/file_io.h"
#include "base/private_dir.h"
#include "base/spawn.h"
#include "base/thread_role.h"
#include "base/unix_socket.h"
#include "runtime/command_session.h"
#include "runtime/guest_cmdline.h"
#include "runtime/launch_steps.h"
#include "runtime/qemu_command.h"
#include "runtime/qemu_exit.h"
#include "runtime/qmp_client.h"
#include "runtime/vm_network.h"
#include "runtime/vm_state.h"
#include "runtime/vmm_control.h"
#include "runtime/warm_template.h"
#include "virtio/fs/fs_device.h"
#include "virtio/vhost_user/backend.h"
#include "virtio/vhost_user/server.h"
#include "virtio/vsock/vsock_device.h"
#include "vmm/guest_files.h"
#include "vmm/host_kvm.h"
#include "vmm/sandbox.h"

namespace vk {
namespace {

using virtio::vhost_user::VhostUserBackend;
using virtio::vhost_user::VhostUserServer;
using Clock = std::chrono::steady_clock;

// How long QEMU may take to open its QMP socket: it does so before the
// guest runs, so this only bounds a QEMU that hangs at start-up.
constexpr auto kQmpStartTimeout = std::chrono::seconds(60);
// The console's end shown when the guest stops without a status (as
// Machine::ConsoleTail for our VMM).
constexpr size_t kConsoleTailBytes = 2048;
// QEMU's own last words shown when it fails.
constexpr size_t kQemuLogTailBytes = 1024;

Error Unsupported(const std::string& what) {
  return Error(ErrorKind::kUsage,
               what + " is not supported with --vmm qemu (virtkit's VMM only; docs/backends.md)");
}

// The library's and libkrun's options that only our VMM implements.
Result<void> CheckOnlyOurVmmOptions(const LaunchOptions& o) {
  if (!o.root_dir.empty()) return Unsupported("a root directory (krun_set_root)");
  if (o.root_device) return Unsupported("a root device on an extra disk");
  if (!o.extra_disks.empty()) return Unsupported("extra disks");
  if (o.initrd_add_agent) return Unsupported("a user initramfs with the agent added");
  if (!o.serial_ports.empty()) return Unsupported("serial consoles");
  if (!o.consoles.empty()) return Unsupported("multiport virtio consoles");
  if (!o.kernel_console.empty()) return Unsupported("a kernel console choice");
  if (!o.vsock_ports.empty()) return Unsupported("user vsock ports");
  if (!o.restore_checkpoint.empty() || o.attach_command)
    return Error(ErrorKind::kUsage, "checkpoints need virtkit's VMM; this VM runs under QEMU");
  for (const SharedDir& share : o.shares) {
    if (share.host_path.empty() || !share.virtual_entries.empty())
      return Unsupported("overlay files in a share");
  }
  if (o.network.switch_fd >= 0 || o.network.datagram)
    return Unsupported("a network given as a descriptor");
  return Ok();
}

// The kernel and initramfs as files QEMU can read: the user's, or the
// embedded ones written once per vk build into the cache.
struct GuestFilePaths {
  std::string kernel, initrd;
};

Result<GuestFilePaths> GuestFilesOnDisk(const LaunchOptions& options) {
  GuestFilePaths paths{options.kernel_path, options.initrd_path};
  if (!paths.kernel.empty() && !paths.initrd.empty()) return paths;
  GuestFiles embedded("", "");
  VK_TRY(embedded.CheckAvailable());
  const std::string dir = VK_TRY(CacheRoot()) + "/qemu-guest/" + VK_TRY(embedded.Identity());
  const std::string kernel = dir + "/vmlinux", initrd = dir + "/initramfs.cpio";
  if (::access(kernel.c_str(), R_OK) != 0 || ::access(initrd.c_str(), R_OK) != 0) {
    GuestBytes bytes = VK_TRY(embedded.Load());
    VK_TRY(EnsurePrivateDirectory(VK_TRY(CacheRoot()) + "/qemu-guest"));
    VK_TRY(EnsurePrivateDirectory(dir));
    VK_TRY(WritePrivateFileAtomically(kernel, bytes.kernel));
    VK_TRY(WritePrivateFileAtomically(initrd, bytes.initrd));
  }
  if (paths.kernel.empty()) paths.kernel = kernel;
  if (paths.initrd.empty()) paths.initrd = initrd;
  return paths;
}

// The end of a file we wrote (the console log, QEMU's log); empty if it
// cannot be read.
std::string FileTail(const std::string& path, size_t bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return "";
  const off_t size = ::lseek(fd.get(), 0, SEEK_END);
  if (size <= 0) return "";
  const off_t from = size > static_cast<off_t>(bytes) ? size - static_cast<off_t>(bytes) : 0;
  std::string tail(static_cast<size_t>(size - from), '\0');
  const ssize_t n = ::pread(fd.get(), tail.data(), tail.size(), from);
  tail.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return tail;
}

// QEMU's last messages, for an error message.
std::string QemuLogTail(const VmDir& run_dir) {
  return FileTail(run_dir.QemuLog(), kQemuLogTailBytes);
}

// The vhost-user back ends and the LAN QEMU connects to, on one loop thread.
class QemuDevices {
 public:
  static Result<std::unique_ptr<QemuDevices>> Create(const LaunchOptions& options,
                                                     const VmDir& run_dir,
                                                     const std::string& hostname) {
    auto devices = std::unique_ptr<QemuDevices>(new QemuDevices());
    devices->loop_ = VK_TRY(EventLoop::Create());
    EventLoop* loop = devices->loop_.get();
    VK_TRY(devices->Serve(VK_TRY(virtio::CreateVsockDevice(AgentVsockConfig(options, run_dir))),
                          run_dir.VhostVsockSocket(), /*config=*/true));
    for (size_t i = 0; i < options.shares.size(); ++i) {
      virtio::FsOptions fs;
      fs.shared_dir = options.shares[i].host_path;
      fs.tag = ShareTagOf(options, i);
      fs.read_only = options.shares[i].read_only;  // enforced here, not only by the guest
      auto device = VK_TRY_CTX(virtio::CreateFsDevice(fs), "share " + fs.shared_dir);
      // QEMU's vhost-user-fs-device takes the tag from its command line and
      // warns about a back end offering a config space.
      VK_TRY(devices->Serve(std::move(device), run_dir.VhostFsSocket(i), /*config=*/false));
    }
    devices->network_ = VK_TRY_CTX(
        ServeExternalNetwork(*loop, options.network, hostname, run_dir.LanSocket()), "network");
    return devices;
  }

  ~QemuDevices() { Stop(); }

  // Serving starts here, on a thread confined to the kVhostUser role.
  void Start() {
    thread_ = std::thread([this] {
      EnterThreadRole(ThreadRole::kVhostUser);
      auto ran = loop_->Run();
      if (!ran.ok()) std::fprintf(stderr, "vk: %s\n", ran.error().message().c_str());
    });
  }

  // Closes every connection (a running command's session sees its end).
  void Stop() {
    if (thread_.joinable()) {
      loop_->Stop();
      thread_.join();
    }
    servers_.clear();
    backends_.clear();
    network_.served.reset();
  }

  const ExternalNetwork& network() const { return network_; }

 private:
  QemuDevices() = default;

  Result<void> Serve(std::unique_ptr<virtio::VirtioDevice> device, const std::string& socket,
                     bool config) {
    auto backend = std::make_unique<VhostUserBackend>(std::move(device), loop_.get());
    if (!config) backend->WithoutConfig();
    ::unlink(socket.c_str());
    servers_.push_back(VK_TRY(VhostUserServer::Listen(socket, backend.get(), loop_.get())));
    backends_.push_back(std::move(backend));
    return Ok();
  }

  std::unique_ptr<EventLoop> loop_;
  std::vector<std::unique_ptr<VhostUserBackend>> backends_;
  std::vector<std::unique_ptr<VhostUserServer>> servers_;  // destroyed before their backends
  ExternalNetwork network_;
  std::thread thread_;
};

Result<QemuPlan> PlanFor(const LaunchOptions& options, const VmDir& run_dir, unsigned cpus,
                         KvmFlavor flavor, const std::string& scratch,
                         const ExternalNetwork& network) {
  QemuPlan plan;
  plan.binary = VK_TRY(FindQemu());
  plan.name = options.name.empty() ? "vk" : options.name;
  plan.cpu_model = QemuCpuModel(flavor == KvmFlavor::kPvm, std::getenv("VIRTKIT_QEMU_CPU"));
  plan.cpus = cpus;
  plan.memory_bytes = options.memory_bytes;
  const GuestFilePaths files = VK_TRY(GuestFilesOnDisk(options));
  plan.kernel = files.kernel;
  plan.initrd = files.initrd;
  plan.cmdline = GuestCmdline(options, flavor, !scratch.empty());
  plan.disks.push_back({options.disk, options.read_only || !scratch.empty()});
  if (!scratch.empty()) plan.disks.push_back({scratch, false});  // vdb: the writable layer
  for (size_t i = 0; i < options.shares.size(); ++i)
    plan.shares.push_back({run_dir.VhostFsSocket(i), ShareTagOf(options, i)});
  plan.vsock_socket = run_dir.VhostVsockSocket();
  plan.network_socket = network.socket;
  plan.mac = network.mac;
  plan.qmp_socket = run_dir.QmpSocket();
  return plan;
}

// Starts QEMU with the console on its stdout and its own messages (the
// command line first) in qemu.log.
Result<ChildProcess> SpawnQemu(const std::vector<std::string>& argv, const VmDir& run_dir,
                               int console_fd) {
  UniqueFd log = VK_TRY(OpenPrivateFile(run_dir.QemuLog(), O_TRUNC));
  std::string line = "vk: running";
  for (const std::string& arg : argv) line += " '" + arg + "'";
  line += "\n";
  VK_TRY(WriteAllAt(log.get(),
                    std::span(reinterpret_cast<const uint8_t*>(line.data()), line.size()), 0));
  ::lseek(log.get(), 0, SEEK_END);
  UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!devnull) return Error::FromErrno("open /dev/null");
  SpawnOptions spawn;
  spawn.stdio[0] = devnull.get();
  spawn.stdio[1] = console_fd;
  spawn.stdio[2] = log.get();
  spawn.new_session = true;      // a terminal's ^C is vk's to forward
  spawn.die_with_parent = true;  // vk SIGKILLed (vk stop's last resort) takes QEMU along
  return ChildProcess(VK_TRY(SpawnProcess(argv, spawn)));
}

// Connects to QEMU's QMP socket, or says why QEMU ended first.
Result<QmpClient> ConnectQmp(ChildProcess& qemu, const VmDir& run_dir) {
  const auto give_up = Clock::now() + kQmpStartTimeout;
  while (true) {
    if (auto status = qemu.WaitUntil(Clock::now()); status) {
      return Error(ErrorKind::kUsage, "QEMU did not start (" + DescribeWaitStatus(*status) +
                                          "); its messages:\n" + QemuLogTail(run_dir));
    }
    auto client =
        QmpClient::Connect(run_dir.QmpSocket(), Clock::now() + std::chrono::milliseconds(200));
    if (client.ok()) return client;
    if (Clock::now() >= give_up)
      return Error(ErrorKind::kUsage, "QEMU did not open its QMP socket: " +
                                          client.error().message() + "\n" + QemuLogTail(run_dir));
  }
}

// Takes the QMP events that have arrived: a SHUTDOWN's reason, and a STOP
// that query-status calls a KVM internal error (QEMU pauses there instead
// of exiting). Returns false once the connection is gone.
bool TakeQmpEvents(QmpClient& qmp, QemuOutcome& outcome) {
  auto events = qmp.ReadEvents();
  if (!events.ok()) return false;
  for (const QmpEvent& event : *events) {
    if (event.name == "SHUTDOWN" && !event.reason.empty()) outcome.shutdown_reason = event.reason;
    if (event.name != "STOP") continue;
    auto status = qmp.QueryStatus(Clock::now() + std::chrono::seconds(5));
    if (status.ok() && *status == "internal-error") outcome.internal_error = true;
  }
  return !qmp.closed();
}

// Waits for QEMU to end, for its guest to hit a KVM internal error (QEMU
// is then killed), or for the deadline (killed too).
QemuOutcome WatchQemu(ChildProcess& qemu, QmpClient& qmp,
                      std::optional<Clock::time_point> deadline) {
  QemuOutcome outcome;
  outcome.started = true;
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, qemu.pid(), 0)));
  bool qmp_open = true;
  while (true) {
    // Events that came with a command's reply are already buffered: taken
    // before polling the socket again (qmp_client.h).
    if (qmp_open) qmp_open = TakeQmpEvents(qmp, outcome);
    if (outcome.internal_error) break;
    if (auto status = qemu.WaitUntil(Clock::now()); status) {
      outcome.wait_status = *status;
      if (qmp_open) TakeQmpEvents(qmp, outcome);  // SHUTDOWN may still be in the socket
      return outcome;
    }
    if (deadline && Clock::now() >= *deadline) {
      outcome.timed_out = true;
      break;
    }
    int timeout_ms = -1;
    if (deadline) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now()).count();
      timeout_ms = static_cast<int>(std::clamp<int64_t>(left, 0, 1000));
    } else if (!pidfd) {
      timeout_ms = 100;  // no pidfd (a kernel before 5.3): poll the child
    }
    pollfd fds[2] = {{pidfd.get(), POLLIN, 0}, {qmp_open ? qmp.fd() : -1, POLLIN, 0}};
    if (::poll(fds, 2, timeout_ms) < 0 && errno != EINTR) break;
  }
  ::kill(qemu.pid(), SIGKILL);
  outcome.wait_status = qemu.Wait();
  return outcome;
}

// A named VM answers `vk checkpoint` with why it cannot.
Result<std::unique_ptr<VmmControlServer>> RefuseCheckpoints(const LaunchOptions& options,
                                                            const VmDir& run_dir) {
  const std::string message = options.name +
                              " runs under QEMU (--vmm qemu): checkpoints need virtkit's VMM "
                              "(run it without --vmm qemu)";
  return VmmControlServer::Start(run_dir.VmmSocket(), [message](const VmmRequest&) {
    return Result<std::string>(Error(ErrorKind::kUsage, message));
  });
}

Result<std::unique_ptr<CommandSession>> StartSession(const LaunchOptions& options,
                                                     const VmDir& run_dir) {
  if (!HasCommand(options)) return std::unique_ptr<CommandSession>();
  auto listener = VK_TRY(ListenUnix(run_dir.GuestConnectSocket(kLaunchPort)));
  proto::StdioFds stdio = options.stdio;
  if (!options.stdin_open) stdio.in = -1;
  auto session = std::make_unique<CommandSession>(std::move(listener), CommandRequest(options),
                                                  stdio, std::nullopt);
  VK_TRY(session->Start());
  return session;
}

Result<int> Run(const LaunchOptions& options, VmDir* run_dir) {
  const KvmFlavor flavor = DetectKvmFlavor();
  const unsigned cpus = ChooseVcpus(options.cpus, flavor);
  const std::string hostname = options.hostname.empty() ? options.name : options.hostname;
  UniqueFd console = VK_TRY(OpenConsole(options, *run_dir));
  std::string scratch;
  if (options.make_scratch_disk)
    scratch = VK_TRY(options.make_scratch_disk(*run_dir).WithKind(ErrorKind::kDisk));
  VK_TRY(sandbox::EnableFromEnvironment(SandboxPaths(options, run_dir->path()))
             .WithKind(ErrorKind::kUsage));
  auto devices =
      VK_TRY(QemuDevices::Create(options, *run_dir, hostname).WithKind(ErrorKind::kUsage));
  const QemuPlan plan =
      VK_TRY(PlanFor(options, *run_dir, cpus, flavor, scratch, devices->network()));
  const std::vector<std::string> argv = VK_TRY(QemuArgv(plan));
  auto session = VK_TRY(StartSession(options, *run_dir).WithKind(ErrorKind::kUsage));
  devices->Start();
  ChildProcess qemu = VK_TRY(SpawnQemu(argv, *run_dir, console.get()).WithKind(ErrorKind::kUsage));
  QmpClient qmp = VK_TRY(ConnectQmp(qemu, *run_dir));
  // Started with -S: the guest runs from here, with every event on QMP.
  if (auto started = qmp.Cont(Clock::now() + kQmpStartTimeout); !started.ok())
    return Error(ErrorKind::kUsage, "QEMU did not start the guest (" + started.error().message() +
                                        "); its messages:\n" + QemuLogTail(*run_dir));
  std::unique_ptr<VmmControlServer> control;
  VmRecord record = RecordFor(options, cpus, options.memory_bytes);
  if (!options.name.empty()) {
    control = VK_TRY(RefuseCheckpoints(options, *run_dir).WithKind(ErrorKind::kUsage));
    VK_TRY(WriteVmRecord(*run_dir, record).WithKind(ErrorKind::kUsage));
    if (!options.remove_state_on_exit) run_dir->Keep();  // vk ps/logs/wait see it ended
  }
  std::optional<Clock::time_point> deadline;
  if (options.timeout) deadline = Clock::now() + *options.timeout;
  MachineExit exit = QemuExit(WatchQemu(qemu, qmp, deadline));
  if (exit.kind == ExitKind::kInternalError) exit.detail += "\n" + QemuLogTail(*run_dir);
  const bool console_in_run_dir = options.console_path.empty() && HasCommand(options);
  Result<int> result = ExplainStop(
      exit, console_in_run_dir ? FileTail(run_dir->ConsoleLog(), kConsoleTailBytes) : "",
      session != nullptr);
  control.reset();
  devices->Stop();  // a session still running (--timeout) sees its connection end
  if (session) session->Join();
  if (session && session->status()) result = session->status()->ShellCode();
  if (!session && exit.kind == ExitKind::kPowerOff) result = exit.status;
  if (!options.name.empty()) {
    record.exit_code = result.ok() ? *result : ExitCodeFor(result.error().kind());
    (void)WriteVmRecord(*run_dir, record);
  }
  return result;
}

}  // namespace

Result<void> CheckQemuLaunch(const LaunchOptions& options) {
  VK_TRY(CheckOnlyOurVmmOptions(options));
  if (::access("/dev/kvm", R_OK | W_OK) != 0)
    return Error(ErrorKind::kNoKvm, "--vmm qemu runs QEMU with KVM, and /dev/kvm is not usable: " +
                                        std::string(std::strerror(errno)));
  VK_TRY(FindQemu());
  return Ok();
}

Result<int> LaunchWithQemu(const LaunchOptions& options, VmDir* run_dir) {
  return Run(options, run_dir);
}

}  // namespace vk
