// Byte streams to a guest vsock port through a VM's vsock.sock (the
// Firecracker "CONNECT <port>\n" / "OK <n>\n" handshake), and a pump that
// copies between two fds until both directions end.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vk::cli {

Result<UniqueFd> ConnectGuestPort(const std::string& vm_name, uint32_t port);

// A stream to TCP port `port` on the guest's loopback, through the agent's
// relay (vsock port 4446: "TCP <port>\n" -> "OK\n").
Result<UniqueFd> ConnectGuestTcp(const std::string& vm_name, uint16_t port);

// Copies a->b and b->a (half-closing each side at EOF) until both end.
// `a_in`/`a_out` may be the same fd (a socket) or stdin/stdout.
void PumpBytes(int a_in, int a_out, int b);

}  // namespace vk::cli
