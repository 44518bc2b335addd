#include "agent/child_reaper.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "base/pipe.h"

namespace vk::agent {
namespace {

int g_sigchld_fd = -1;  // write end of the active reaper's pipe

void OnSigchld(int) {
  const int saved_errno = errno;
  const char byte = 0;
  (void)!write(g_sigchld_fd, &byte, 1);
  errno = saved_errno;
}

}  // namespace

proto::ExitStatus ExitStatusFromWait(int wait_status) {
  if (WIFSIGNALED(wait_status)) return proto::ExitStatus::Signaled(WTERMSIG(wait_status));
  return proto::ExitStatus::Exited(WEXITSTATUS(wait_status));
}

Result<std::unique_ptr<ChildReaper>> ChildReaper::Install(ReapScope scope) {
  Pipe pipe = VK_TRY_CTX(MakePipe(O_CLOEXEC | O_NONBLOCK), "SIGCHLD");
  std::unique_ptr<ChildReaper> reaper(
      new ChildReaper(scope, std::move(pipe.read), std::move(pipe.write)));
  g_sigchld_fd = reaper->write_.get();
  struct sigaction action {};
  action.sa_handler = OnSigchld;
  action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigemptyset(&action.sa_mask);
  if (sigaction(SIGCHLD, &action, &reaper->previous_) < 0) {
    return Error::FromErrno("install SIGCHLD handler");
  }
  return reaper;
}

ChildReaper::~ChildReaper() {
  sigaction(SIGCHLD, &previous_, nullptr);
  g_sigchld_fd = -1;
}

std::optional<proto::ExitStatus> ChildReaper::Reap(pid_t pid) {
  char drain[64];
  while (read(read_.get(), drain, sizeof(drain)) > 0) {
  }
  for (;;) {
    int wait_status = 0;
    const pid_t reaped =
        waitpid(scope_ == ReapScope::kAllChildren ? -1 : pid, &wait_status, WNOHANG);
    if (reaped < 0 && errno == EINTR) continue;
    if (reaped <= 0) break;
    if (reaped == pid) status_ = ExitStatusFromWait(wait_status);
    if (scope_ == ReapScope::kOwnChild) break;
  }
  return status_;
}

}  // namespace vk::agent
