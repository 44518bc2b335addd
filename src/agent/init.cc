#include "agent/init.h"

#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "agent/exec_listener.h"
#include "agent/exec_server.h"
#include "agent/guest_mounts.h"
#include "agent/init_params.h"
#include "agent/net_config.h"
#include "agent/system_setup.h"
#include "agent/template_assignment.h"
#include "base/unique_fd.h"
#include "proto/guest_tunables.h"
#include "proto/str_format.h"

namespace vk::agent {

using proto::StrFormat;
namespace {

constexpr char kDistroInit[] = "/sbin/init";
// The host listens before the VM starts, so a refused connect is retried only
// briefly (the vsock device may still be settling).
constexpr int kConnectTries = 10;
// After a restore the new VMM listens before the guest resumes too; this
// only bounds how long a command waits for a host that will never come.
constexpr int kReconnectTries = 150;
constexpr useconds_t kConnectRetryStep = 200 * 1000;
constexpr size_t kMaxCmdline = 64 * 1024;

[[noreturn]] void PowerOff() {
  sync();
  // `vk-agent init` run by mistake outside a VM must not power off the host:
  // only the real init of a machine turns it off.
  if (getpid() != 1) _exit(1);
  PowerOffMachine();
  // Still here: no way to power off. PID 1 must not exit (kernel panic), and
  // the console already says why.
  for (;;) pause();
}

[[noreturn]] void Fatal(const std::string& message) {
  ConsoleLine(message);
  PowerOff();
}

Result<std::string> ReadCmdline() {
  UniqueFd fd(open("/proc/cmdline", O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::FromErrno("open /proc/cmdline");
  std::string text(kMaxCmdline, '\0');
  const ssize_t got = read(fd.get(), text.data(), text.size());
  if (got < 0) return Error::FromErrno("read /proc/cmdline");
  text.resize(static_cast<size_t>(got));
  return text;
}

Result<UniqueFd> ConnectToHost(uint32_t port, int tries = kConnectTries) {
  sockaddr_vm address{};
  address.svm_family = AF_VSOCK;
  address.svm_cid = VMADDR_CID_HOST;
  address.svm_port = port;
  int last_errno = 0;
  for (int attempt = 0; attempt < tries; ++attempt) {
    UniqueFd sock(socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock) return Error::FromErrno("create vsock socket (kernel without virtio-vsock?)");
    if (connect(sock.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0)
      return sock;
    last_errno = errno;
    usleep(kConnectRetryStep);
  }
  return Error::FromErrno(StrFormat("connect to host vsock port {}", port), last_errno);
}

[[noreturn]] void ExecDistroInit() {
  char* const argv[] = {const_cast<char*>(kDistroInit), nullptr};
  execv(kDistroInit, argv);
  Fatal(StrFormat("no command to run and cannot start {}: {}", kDistroInit, strerror(errno)));
}

Result<void> PrepareSystem(const InitParams& params) {
  if (!params.root.empty()) VK_TRY(SwitchToRootDisk(params));
  VK_TRY(MountSystemFilesystems(params.root_fstype == "virtiofs"));
  if (!params.hostname.empty()) VK_TRY(SetHostname(params.hostname));
  if (params.write_etc) VK_TRY(WriteEtcFiles(params.hostname.empty() ? "vk" : params.hostname));
  VK_TRY(MountGuestMounts(params.tmpfs_mounts, params.fs_mounts, params.bind_mounts));
  if (auto loopback = BringUpLoopback(); !loopback.ok()) {
    ConsoleLine("warning: " + loopback.error().message());
  }
  return Ok();
}

// Returns the thread that renews a DHCP lease; it must live as long as the
// guest uses the address.
std::unique_ptr<DhcpRenewalThread> StartNetwork(const InitParams& params) {
  if (!params.net) return nullptr;
  NetConfigRequest net = *params.net;
  net.hostname = params.hostname;  // DHCP option 12: NAME.lan resolves on the LAN
  auto configured = ConfigureNetwork(net);
  // A network that does not come up is reported, but the command still
  // runs (it may not need the network, and its output says more).
  if (!configured.ok()) {
    ConsoleLine("warning: " + configured.error().message());
    return nullptr;
  }
  return std::move(*configured);
}

// A detached VM with no command: PID 1 only reaps orphans while the exec
// server runs, until `vk stop` powers the VM off.
[[noreturn]] void ReapForever() {
  while (true) {
    if (waitpid(-1, nullptr, 0) < 0 && errno == ECHILD) sleep(1);
  }
}

// On PVM hosts guest user space runs natively and sees the host's AVX/AVX-512
// state enabled, but the guest kernel (booted with noxsave: XSAVE is not
// emulated there) only switches the legacy FPU/SSE registers between
// processes. glibc would pick AVX string functions and concurrent processes
// would corrupt each other's vector registers, so tell glibc not to use them.
// Programs that test CPUID for AVX themselves are not covered (documented).
void AvoidUnsavedVectorState(const InitParams& params) {
  if (!params.pvm || getenv("GLIBC_TUNABLES") != nullptr) return;
  setenv("GLIBC_TUNABLES", proto::kPvmGlibcTunables, 1);
}

// Everything after "the parameters are known", shared by a cmdline boot and
// a template's clone.
Result<void> BootWithParams(const InitParams& params) {
  VK_TRY(PrepareSystem(params));
  AvoidUnsavedVectorState(params);  // setenv: before any thread starts
  // Renews in the background while PID 1 serves; dies with an exec of the
  // distro's init, which brings its own network management.
  const auto network = StartNetwork(params);
  if (params.serve_port) VK_TRY(StartGuestServers(*params.serve_port).Context("exec server"));
  if (!params.port) {
    if (params.idle) ReapForever();
    ExecDistroInit();
  }
  UniqueFd host = VK_TRY(ConnectToHost(*params.port));
  ExecServerOptions options;
  options.reap = ReapScope::kAllChildren;
  // The command outlives its connection: a checkpoint restored later resets
  // every vsock connection, and the restored VMM re-attaches to the command
  // (docs/snapshots.md, "Checkpoints").
  options.reconnect = [port = *params.port] {
    ConsoleLine("the host connection was reset; calling the host again for the command");
    return ConnectToHost(port, kReconnectTries);
  };
  VK_TRY(ServeExec(host.get(), options).Context("exec session"));
  return Ok();
}

Result<void> InitMain() {
  VK_TRY(MountEarlyFilesystems());
  const auto cmdline = VK_TRY(ParseInitParams(VK_TRY(ReadCmdline())));
  if (!cmdline.template_port) return BootWithParams(cmdline);
  // A warm template: nothing VM-specific happens before the host assigns it.
  return BootWithParams(VK_TRY(ReceiveTemplateAssignment(cmdline)));
}

}  // namespace

void RunInit() {
  auto result = InitMain();
  if (!result.ok()) Fatal(result.error().message());
  PowerOff();
}

}  // namespace vk::agent
