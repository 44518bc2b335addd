// Byte streams through a VMM's vsock unix socket (the Firecracker model:
// "CONNECT <port>\n" -> "OK <n>\n", then raw bytes to the guest's port), and
// a pump that copies between two fds until both directions end. Shared by
// `vk connect` and `vk-agent connect` (an SSH ProxyCommand that needs no vk).
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vk::proto {

Result<UniqueFd> ConnectVsockPort(const std::string& socket_path, uint32_t port);

// Writes everything (send with MSG_NOSIGNAL on sockets, write otherwise).
Result<void> WriteAll(int fd, const char* data, size_t size);

// Copies a->b and b->a (half-closing each side at EOF) until both end.
// `a_in`/`a_out` may be the same fd (a socket) or stdin/stdout.
void PumpBytes(int a_in, int a_out, int b);

}  // namespace vk::proto
