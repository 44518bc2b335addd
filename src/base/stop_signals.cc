#include "base/stop_signals.h"

#include <signal.h>
#include <sys/signalfd.h>

namespace vk {

Result<UniqueFd> StopSignalFd() {
  sigset_t set;
  sigemptyset(&set);
  for (int signo : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, signo);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  UniqueFd fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd) return Error::FromErrno("signalfd");
  return fd;
}

}  // namespace vk
