// Vm::Exec over the agent's exec socket (proto/exec_client.h): the API's
// callbacks, strings and fds mapped onto the session's stdio fds, and a
// timeout that kills the command.
#pragma once

#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "virtkit/virtkit.h"

namespace virtkit::internal {

// Runs `argv` over `connection` (an exec socket, connected). `base_env`
// comes before options.env (Options::env of the VM).
Result<ExecResult> RunExec(vk::UniqueFd connection, const std::vector<std::string>& argv,
                           const std::vector<std::string>& base_env, const ExecOptions& options);

}  // namespace virtkit::internal
