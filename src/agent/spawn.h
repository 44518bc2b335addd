// Starts the command of an exec request: its own session and process group,
// the requested user, environment and directory, and either a pseudo-terminal
// (controlling tty, stderr merged) or three pipes.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/exit_codes.h"
#include "base/result.h"
#include "base/unique_fd.h"
#include "proto/messages.h"

namespace vk::agent {

// A command that could not be started exits with base/exit_codes.h's
// kExitCannotRun (not executable, bad user or cwd, a resource limit that
// setrlimit refuses) or kExitNotFound (no such program); the reason goes to
// the command's stderr.

inline constexpr char kDefaultPath[] =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct SpawnedChild {
  pid_t pid = -1;  // also the process group id
  bool tty = false;
  UniqueFd stdin_fd;   // write end of its stdin pipe, or the pty master
  UniqueFd stdout_fd;  // read end of its stdout pipe, or the pty master
  UniqueFd stderr_fd;  // read end of its stderr pipe; invalid with a tty
};

Result<SpawnedChild> SpawnCommand(const proto::ExecRequest& request);

// The environment the command gets (without clear_env: PATH and HOME
// defaults, TERM with a tty, then the request's entries win).
std::vector<std::string> BuildEnvironment(const proto::ExecRequest& request,
                                          const std::string& home);

}  // namespace vk::agent
