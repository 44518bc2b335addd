// Long-running commands (vk switch, vk virtiofsd) stop cleanly on SIGINT,
// SIGTERM and SIGHUP: the signals are blocked and read from a signalfd the
// command's event loop watches, so destructors (which remove sockets) run.
#pragma once

#include "base/result.h"
#include "base/unique_fd.h"

namespace vk {

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (threads started
// later inherit that) and returns a non-blocking signalfd for them.
Result<UniqueFd> StopSignalFd();

}  // namespace vk
