// Whole reads and writes on file descriptors, and the one byte relay. Every
// "write it all", "read exactly n" and "copy both ways" in vk and vk-agent is
// one of these (a copy per caller had drifted: some raised SIGPIPE on a
// closed socket, some treated EAGAIN as fatal).
//
// Sockets are written with send(MSG_NOSIGNAL), so a peer that went away is
// an EPIPE error, never a SIGPIPE that kills the process.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/result.h"

namespace vk {

using Deadline = std::chrono::steady_clock::time_point;

// Blocking fds: returns once every byte is written, or the error.
Result<void> WriteAll(int fd, std::span<const uint8_t> data);
Result<void> WriteAll(int fd, std::string_view text);
// Reads exactly buffer.size() bytes; EOF first is an error ("connection
// closed after N of M bytes").
Result<void> ReadExactly(int fd, std::span<uint8_t> buffer);

// The same for fds that may be non-blocking: waits with poll, and fails with
// ErrorKind::kTimeout once `deadline` passes.
Result<void> WriteAllBefore(int fd, std::span<const uint8_t> data, Deadline deadline);
Result<void> ReadExactlyBefore(int fd, std::span<uint8_t> buffer, Deadline deadline);

// Waits until `fd` is ready for `events` (POLLIN, POLLOUT) or `deadline`
// passes (ErrorKind::kTimeout).
Result<void> WaitForFd(int fd, short events, Deadline deadline);

// Copies a_in -> b and b -> a_out until both directions end, half-closing
// each side at its EOF (shutdown(SHUT_WR) on sockets; a non-socket a_out
// other than stdout is closed). a_in and a_out may be one socket, or
// stdin/stdout.
void RelayBytes(int a_in, int a_out, int b);

}  // namespace vk
