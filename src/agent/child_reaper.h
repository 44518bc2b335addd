// ChildReaper: turns SIGCHLD into a readable fd for a poll loop and collects
// exit statuses. As PID 1 it reaps every zombie (orphans are re-parented to
// init and nobody else will wait for them); elsewhere only our own child.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <memory>
#include <optional>

#include "base/result.h"
#include "base/unique_fd.h"
#include "proto/messages.h"

namespace vk::agent {

enum class ReapScope { kOwnChild, kAllChildren };

proto::ExitStatus ExitStatusFromWait(int wait_status);

class ChildReaper {
 public:
  // Installs the SIGCHLD handler; only one reaper may exist at a time.
  static Result<std::unique_ptr<ChildReaper>> Install(ReapScope scope);
  ~ChildReaper();
  ChildReaper(const ChildReaper&) = delete;
  ChildReaper& operator=(const ChildReaper&) = delete;

  int fd() const { return read_.get(); }
  // Drains the notification pipe and reaps; returns `pid`'s status once it
  // has exited (again on later calls).
  std::optional<proto::ExitStatus> Reap(pid_t pid);

 private:
  ChildReaper(ReapScope scope, UniqueFd read, UniqueFd write)
      : scope_(scope), read_(std::move(read)), write_(std::move(write)) {}

  ReapScope scope_;
  UniqueFd read_;
  UniqueFd write_;
  struct sigaction previous_ {};
  std::optional<proto::ExitStatus> status_;
};

}  // namespace vk::agent
