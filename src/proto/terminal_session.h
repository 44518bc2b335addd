// The terminal side of an exec session, the one `vk run`, `vk exec` and
// `vk launch` share: while a session runs, SIGINT/SIGTERM/SIGHUP/SIGQUIT go to
// the guest command, SIGWINCH becomes a resize, and a tty command gets stdin
// in raw mode. Outside a session those signals act as if unhandled (^C during
// a boot still stops vk), except SIGWINCH, which is ignored.
#pragma once

#include "base/result.h"
#include "proto/exec_client.h"

namespace vk::proto {

// Installs the process's handlers (once; also ignores SIGPIPE: a closed
// stdout must not kill a VMM).
void InstallTerminalSignalHandlers();

// Runs one exec session over `fd` (proto/exec_client.h) with this process's
// terminal: the signals above are forwarded while it runs, and stdin is raw
// when the request asks for a tty and stdin is used. options.control, when
// set, is used (a sandboxed process makes its control's pipe beforehand);
// else one is made.
Result<ExitStatus> RunTerminalSession(int fd, const ExecRequest& request, const StdioFds& stdio,
                                      const ExecSessionOptions& options = {});

}  // namespace vk::proto
