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

}  // namespace vk::cli
