#include "proto/terminal_session.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <optional>

#include "base/terminal.h"
#include "base/terminal_resize.h"

namespace vk::proto {
namespace {

// The running session's control, read by the signal handler.
std::atomic<const SessionControl*> g_control{nullptr};

void OnSignal(int signo) {
  if (signo == SIGWINCH) NotifyTerminalResized();  // console ports on a host terminal
  if (const SessionControl* control = g_control.load()) {
    if (signo != SIGWINCH) {
      control->ForwardSignal(signo);
    } else if (auto size = TerminalSize(STDIN_FILENO)) {
      control->Resize(size->first, size->second);
    }
    return;
  }
  if (signo == SIGWINCH) return;
  ::signal(signo, SIG_DFL);  // no command to forward to: behave as if unhandled
  ::raise(signo);
}

// Publishes the session's control to the handler for its lifetime.
class ControlScope {
 public:
  explicit ControlScope(const SessionControl* control) { g_control = control; }
  ~ControlScope() { g_control = nullptr; }
  ControlScope(const ControlScope&) = delete;
  ControlScope& operator=(const ControlScope&) = delete;
};

}  // namespace

void InstallTerminalSignalHandlers() {
  ::signal(SIGPIPE, SIG_IGN);
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (int signo : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH})
    ::sigaction(signo, &action, nullptr);
}

Result<ExitStatus> RunTerminalSession(int fd, const ExecRequest& request, const StdioFds& stdio,
                                      const ExecSessionOptions& options) {
  std::optional<SessionControl> own_control;
  ExecSessionOptions with_control = options;
  if (with_control.control == nullptr) {
    own_control.emplace(VK_TRY(SessionControl::Create()));
    with_control.control = &*own_control;
  }
  ControlScope scope(with_control.control);
  // Raw mode only while the command runs, restored on every path.
  std::optional<RawTerminal> raw;
  if (request.tty && stdio.in >= 0) raw.emplace(stdio.in);
  if (request.tty) OnSignal(SIGWINCH);  // the size may have changed since the request was made
  return RunExecSession(fd, request, stdio, with_control);
}

}  // namespace vk::proto
