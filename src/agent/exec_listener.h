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

// Copies between two connected sockets until both directions end.
void RelayBytes(int a, int b);

// Accepts forever; each connection runs ServeExec in a child process.
[[noreturn]] void ServeExecsForever(UniqueFd listener);

// Starts, in child processes, the exec server on `exec_port`, the power-off
// server on `exec_port + 1` and the TCP relay on `exec_port + 2` (a host
// connection sends "TCP <port>\n", gets "OK\n", and is then joined to
// 127.0.0.1:<port> in the guest: `vk forward`). Returns in the caller.
Result<void> StartGuestServers(uint32_t exec_port);

}  // namespace vk::agent
