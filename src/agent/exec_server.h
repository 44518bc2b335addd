// The agent's side of one exec session (docs/protocol.md): reads the host's
// request, starts the command, pumps its stdio under flow control, forwards
// signals and terminal resizes, and reports how it ended. A host that closes
// the connection gets the command's process group killed; a connection lost
// otherwise (a restored checkpoint) is re-attached when the session allows.
#pragma once

#include <functional>

#include "agent/child_reaper.h"
#include "base/result.h"
#include "base/unique_fd.h"
#include "proto/flow_control.h"
#include "proto/frame_channel.h"
#include "proto/messages.h"

namespace vk::agent {

struct ExecServerOptions {
  proto::HelloState hello = proto::HelloState::kPending;
  ReapScope reap = ReapScope::kOwnChild;  // kAllChildren when running as PID 1
  // After the command exits, output that descendants still write is
  // forwarded until the pipes close or stay quiet this long.
  int drain_grace_ms = 200;
  // After Exit is sent, how long to wait for the host to close its side (so
  // that nothing is in flight when a VM powers off).
  int linger_ms = 5000;
  proto::BufferStats* stats = nullptr;  // optional, not owned: filled in as it runs
  // Set: a connection that fails (a vsock transport reset after a restore;
  // not the host's close, which reads as EOF) does not end the session. The
  // agent keeps the command, gets a new connection from this, and resumes
  // once the host sends Attach there (docs/protocol.md, "Re-attaching").
  // Output the host has not returned credit for is kept until it does, and
  // sent again from the offsets Attach names.
  std::function<Result<UniqueFd>()> reconnect;
  // How long a new connection may take to bring the host's Hello and Attach.
  int attach_timeout_ms = 60000;
};

// Serves one exec on the connected stream `fd` (not owned; made non-blocking).
// Returns the command's exit status once the host has been told, or an error
// (protocol violation, host gone) after killing the command.
Result<proto::ExitStatus> ServeExec(int fd, const ExecServerOptions& options = {});

}  // namespace vk::agent
