#include "capi/start_enter.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>

#include "base/exit_codes.h"
#include "base/log.h"
#include "base/terminal.h"
#include "base/unique_fd.h"
#include "capi/kernel_image.h"
#include "capi/launch_plan.h"
#include "capi/nic_link.h"
#include "capi/refusal.h"
#include "runtime/launch.h"

namespace vk::capi {
namespace {

constexpr char kFunction[] = "krun_start_enter";

// The workload runs on a terminal when its stdin and stdout are one.
HostSide ReadHostSide(const proto::StdioFds& stdio) {
  HostSide host;
  host.terminal =
      stdio.in >= 0 && stdio.out >= 0 && ::isatty(stdio.in) == 1 && ::isatty(stdio.out) == 1;
  if (!host.terminal) return host;
  const char* term = std::getenv("TERM");
  host.term = term != nullptr ? term : "xterm";
  if (auto size = TerminalSize(stdio.in)) {
    host.rows = size->first;
    host.cols = size->second;
  }
  return host;
}

// krun_setgid/krun_setuid change the calling process's ids before the VM is
// built, gid first (libkrun lib.rs:3250-3262).
int ApplyIds(const KrunConfig& config) {
  if (config.gid && ::setgid(*config.gid) < 0) return Refuse(kFunction, errno, "setgid failed");
  if (config.uid && ::setuid(*config.uid) < 0) return Refuse(kFunction, errno, "setuid failed");
  return 0;
}

// krun_get_shutdown_eventfd: while the VM runs, a write to it stops the
// workload the way a SIGTERM to this process does (forwarded to the command
// in the guest, whose end powers the VM off and ends the process with its
// status). A start that fails stops watching, so a later write does nothing.
class ShutdownWatcher {
 public:
  explicit ShutdownWatcher(UniqueFd eventfd) {
    if (!eventfd) return;
    cancel_.Reset(::eventfd(0, EFD_CLOEXEC));
    if (!cancel_) return;  // no watcher: the eventfd is then only a file descriptor
    thread_ = std::thread([shutdown = std::move(eventfd), cancel = cancel_.get()] {
      pollfd fds[2] = {{shutdown.get(), POLLIN, 0}, {cancel, POLLIN, 0}};
      while (::poll(fds, 2, -1) < 0 && errno == EINTR) {
      }
      if ((fds[0].revents & POLLIN) != 0 && (fds[1].revents & POLLIN) == 0)
        ::kill(::getpid(), SIGTERM);
    });
  }
  ~ShutdownWatcher() {
    if (!thread_.joinable()) return;
    const uint64_t one = 1;
    (void)!::write(cancel_.get(), &one, sizeof(one));
    thread_.join();
  }
  ShutdownWatcher(const ShutdownWatcher&) = delete;
  ShutdownWatcher& operator=(const ShutdownWatcher&) = delete;

 private:
  UniqueFd cancel_;
  std::thread thread_;
};

// Failures of setting the VM up (nothing ran): a negative errno. Failures
// once the guest ran (it panicked, or ended without an exit status): the
// process ends like libkrun's does when the guest dies, with status 1.
bool GuestRan(ErrorKind kind) {
  return kind == ErrorKind::kGuestPanic || kind == ErrorKind::kNoExitStatus ||
         kind == ErrorKind::kTimeout;
}

}  // namespace

int StartEnter(KrunConfig config) {
  auto plan = PlanLaunch(config, ReadHostSide(WorkloadStdio(config)));
  if (!plan.ok()) return Refuse(kFunction, plan.error());
  LaunchOptions& options = *plan;
  if (config.kernel && config.kernel->format != KernelFormat::kElf) {  // IMAGE_GZ/BZ2/ZSTD
    auto kernel = DecompressedKernelFile(config.kernel->path);
    if (!kernel.ok()) return Refuse(kFunction, kernel.error());
    options.kernel_path = *kernel;
  }
  auto nic = OpenNicLink(config);
  if (!nic.ok()) return Refuse(kFunction, nic.error());
  if (*nic) options.network.switch_fd = nic->get();
  if (int failed = ApplyIds(config); failed < 0) return failed;
  // What the client printed before must come out before the guest's output
  // (libkrun drops it: its _exit skips the client's stdio buffers).
  std::fflush(nullptr);
  ShutdownWatcher watcher(std::move(config.shutdown_eventfd));
  auto status = [&options] {
    // A serial console or terminal port passes keys on as typed (libkrun's
    // builder.rs sets raw mode on them too); restored before the _exit.
    std::vector<std::unique_ptr<RawTerminal>> raw;
    for (const SerialPortConfig& port : options.serial_ports)
      if (port.input_fd >= 0) raw.push_back(std::make_unique<RawTerminal>(port.input_fd));
    for (const virtio::MultiportConsoleConfig& console : options.consoles)
      for (const virtio::ConsolePortSpec& port : console.ports)
        if (port.console) raw.push_back(std::make_unique<RawTerminal>(port.input_fd));
    return Launch(options);
  }();
  if (!status.ok()) {
    if (!GuestRan(status.error().kind())) return Refuse(kFunction, status.error());
    log::Error("{}: {}", kFunction, status.error().message());
    ::_exit(1);
  }
  ::_exit(*status);
}

}  // namespace vk::capi
