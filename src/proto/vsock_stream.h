// Byte streams through a VMM's vsock unix socket (the Firecracker model:
// "CONNECT <port>\n" -> "OK <n>\n", then raw bytes to the guest's port;
// base/fd_io.h's RelayBytes copies them). Shared by
// `vk connect` and `vk-agent connect` (an SSH ProxyCommand that needs no vk).
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vk::proto {

Result<UniqueFd> ConnectVsockPort(const std::string& socket_path, uint32_t port);

}  // namespace vk::proto
