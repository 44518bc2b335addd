// The agent's side of one exec session (docs/protocol.md): reads the host's
// request, starts the command, pumps its stdio under flow control, forwards
// signals and terminal resizes, and reports how it ended. A dropped host
// connection kills the command's process group.
#pragma once

#include "agent/child_reaper.h"
#include "base/result.h"
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
};

// Serves one exec on the connected stream `fd` (not owned; made non-blocking).
// Returns the command's exit status once the host has been told, or an error
// (protocol violation, host gone) after killing the command.
Result<proto::ExitStatus> ServeExec(int fd, const ExecServerOptions& options = {});

}  // namespace vk::agent
