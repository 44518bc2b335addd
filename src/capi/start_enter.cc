#include "capi/start_enter.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "base/exit_codes.h"
#include "base/log.h"
#include "base/terminal.h"
#include "base/unique_fd.h"
#include "capi/launch_plan.h"
#include "capi/refusal.h"
#include "runtime/launch.h"

namespace vk::capi {
namespace {

constexpr char kFunction[] = "krun_start_enter";

HostSide ReadHostSide() {
  HostSide host;
  host.terminal = ::isatty(STDIN_FILENO) == 1 && ::isatty(STDOUT_FILENO) == 1;
  if (!host.terminal) return host;
  const char* term = std::getenv("TERM");
  host.term = term != nullptr ? term : "xterm";
  if (auto size = TerminalSize(STDIN_FILENO)) {
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

// krun_get_shutdown_eventfd: a write to it stops the workload the way a
// SIGTERM to this process does (forwarded to the command in the guest, whose
// end powers the VM off and ends the process with its status).
void WatchShutdownEventfd(UniqueFd eventfd) {
  if (!eventfd) return;
  std::thread([fd = std::move(eventfd)] {
    pollfd ready{fd.get(), POLLIN, 0};
    while (::poll(&ready, 1, -1) < 0 && errno == EINTR) {
    }
    if ((ready.revents & POLLIN) != 0) ::kill(::getpid(), SIGTERM);
  }).detach();
}

// Failures of setting the VM up (nothing ran): a negative errno. Failures
// once the guest ran (it panicked, or ended without an exit status): the
// process ends like libkrun's does when the guest dies, with status 1.
bool GuestRan(ErrorKind kind) {
  return kind == ErrorKind::kGuestPanic || kind == ErrorKind::kNoExitStatus ||
         kind == ErrorKind::kTimeout;
}

}  // namespace

int StartEnter(KrunConfig config) {
  auto plan = PlanLaunch(config, ReadHostSide());
  if (!plan.ok()) return Refuse(kFunction, plan.error());
  LaunchOptions& options = *plan;
  if (int failed = ApplyIds(config); failed < 0) return failed;
  // What the client printed before must come out before the guest's output
  // (libkrun drops it: its _exit skips the client's stdio buffers).
  std::fflush(nullptr);
  WatchShutdownEventfd(std::move(config.shutdown_eventfd));
  auto status = Launch(options);
  if (!status.ok()) {
    if (!GuestRan(status.error().kind())) return Refuse(kFunction, status.error());
    log::Error("{}: {}", kFunction, status.error().message());
    ::_exit(1);
  }
  ::_exit(*status);
}

}  // namespace vk::capi
