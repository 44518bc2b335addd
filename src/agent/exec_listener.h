// The agent's long-running servers (DESIGN.md §4): execs on a vsock port
// (`vk exec`), one forked session per connection, and power-off requests on
// the next port (`vk stop`). Also usable on a unix socket on the host, where
// the agent is an ordinary program (tests, bench/exec.sh).
#pragma once

#include <linux/vm_sockets.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vk::agent {

Result<UniqueFd> ListenVsock(uint32_t port);
// For `vk-agent serve --unix` on a host: base/unix_socket.h's ListenUnix
// (0600), replacing a stale socket file.
Result<UniqueFd> ListenUnix(const std::string& path);

// Whether a vsock peer is the host (CID 2, VMADDR_CID_HOST). Only the host
// may reach the agent's ports: with vsock loopback in the guest kernel, any
// unprivileged guest process could otherwise connect (CID 1 or the guest's
// own CID) and run commands as root.
bool IsHostPeer(const sockaddr_vm& peer);

// The next connection on `listener` that may use the agent: on a vsock
// listener, from the host only; on a unix socket (a host-side agent), from
// our own uid only (CheckPeerIsOwner). Others are closed with a log line
// (rate-limited); an empty fd means "nothing accepted, call again". Never
// spins: when out of fds (EMFILE/ENFILE) it sleeps briefly first.
UniqueFd AcceptFromHost(int listener);

// Accepts forever; each connection runs ServeExec in a child process.
[[noreturn]] void ServeExecsForever(UniqueFd listener);

// Starts, in child processes, the exec server on `exec_port`, the power-off
// server on `exec_port + 1` and the TCP relay on `exec_port + 2` (a host
// connection sends "TCP <port>\n", gets "OK\n", and is then joined to
// 127.0.0.1:<port> in the guest: `vk forward`). Returns in the caller.
Result<void> StartGuestServers(uint32_t exec_port);

}  // namespace vk::agent
