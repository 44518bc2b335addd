// Unix stream sockets for the host side: one connect, one listen, one peer
// check. A path longer than sockaddr_un::sun_path is an error, never
// truncated (a truncated path would name another file).
//
// Rules for sockets that reach a VM (exec.sock, control.sock, vsock.sock):
// the socket file is created 0600 whatever the umask, lives in a 0700
// directory, and every accepted peer must be the same uid as this process
// (SO_PEERCRED): another local user must never reach a guest's root shell.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vk {

enum class SocketBlocking { kBlocking, kNonBlocking };

// A close-on-exec stream socket connected to `path`. kNonBlocking never waits
// on a listener whose backlog is full: the connect may still be in progress
// (EINPROGRESS/EAGAIN are not errors then; the first write tells).
Result<UniqueFd> ConnectUnix(const std::string& path,
                             SocketBlocking blocking = SocketBlocking::kBlocking);

// Binds and listens on `path` (mode 0600, independent of the umask).
Result<UniqueFd> ListenUnix(const std::string& path, int backlog = 16,
                            SocketBlocking blocking = SocketBlocking::kBlocking);

// The uid of the process at the other end of a connected unix socket.
Result<uid_t> PeerUid(int fd);

// Ok when the peer runs as our own uid (root's peers included only when we
// are root); otherwise an error naming the peer's uid.
Result<void> CheckPeerIsOwner(int fd);

// One line from a socket, newline included, read byte by byte (nothing past
// it is consumed) until `deadline`; an error when the peer closes first, the
// deadline passes, or the line grows past `max_bytes`.
Result<std::string> ReadLineBefore(int fd, std::chrono::steady_clock::time_point deadline,
                                   size_t max_bytes);

}  // namespace vk
