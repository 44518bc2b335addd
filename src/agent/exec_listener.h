// The agent's long-running servers (DESIGN.md §4): execs on a vsock port
// (`vk exec`), one forked session per connection, and power-off requests on
// the next port (`vk stop`). Also usable on a unix socket on the host, where
// the agent is an ordinary program (tests, bench/exec.sh).
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vk::agent {

Result<UniqueFd> ListenVsock(uint32_t port);
Result<UniqueFd> ListenUnix(const std::string& path);

// Accepts forever; each connection runs ServeExec in a child process.
[[noreturn]] void ServeExecsForever(UniqueFd listener);

// Starts, in a child process, the exec server on `exec_port` and the
// power-off server on `exec_port + 1`. Returns in the caller.
Result<void> StartGuestServers(uint32_t exec_port);

}  // namespace vk::agent
