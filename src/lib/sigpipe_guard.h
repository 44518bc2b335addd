// SIGPIPE blocked in the calling thread while a library call writes to a
// pipe or socket whose reader may be gone, without changing the embedding
// program's disposition; a SIGPIPE raised meanwhile is consumed, not left
// pending for the program.
#pragma once

#include <signal.h>

#include <ctime>

namespace virtkit::internal {

class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, &saved_);
  }
  ~SigpipeGuard() {
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    timespec zero{};
    while (sigtimedwait(&pipe, nullptr, &zero) == SIGPIPE) {
    }
    pthread_sigmask(SIG_SETMASK, &saved_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t saved_;
};

}  // namespace virtkit::internal
