// Host side of one exec session (docs/protocol.md): sends the request, pumps
// the host's stdin to the agent and the agent's stdout/stderr to host fds
// under flow control, and returns how the command ended.
#pragma once

#include <unistd.h>

#include <cstdint>

#include "base/result.h"
#include "base/unique_fd.h"
#include "proto/flow_control.h"
#include "proto/frame_channel.h"
#include "proto/messages.h"

namespace vk::proto {

struct StdioFds {
  int in = STDIN_FILENO;    // -1: no input (StdinClose is sent at once)
  int out = STDOUT_FILENO;  // -1: discard
  int err = STDERR_FILENO;  // -1: discard
};

// Lets other code (a SIGINT/SIGWINCH handler, another thread) inject Signal
// and Resize frames into a running session. Both calls are async-signal-safe:
// they write one small record to a pipe that the session loop polls.
class SessionControl {
 public:
  static Result<SessionControl> Create();
  void ForwardSignal(int signo) const;
  void Resize(uint16_t rows, uint16_t cols) const;
  int read_fd() const { return read_.get(); }

 private:
  SessionControl(UniqueFd read, UniqueFd write)
      : read_(std::move(read)), write_(std::move(write)) {}
  void Post(uint8_t kind, uint32_t value) const;

  UniqueFd read_;
  UniqueFd write_;
};

struct ExecSessionOptions {
  HelloState hello = HelloState::kPending;
  const SessionControl* control = nullptr;  // optional, not owned
  BufferStats* stats = nullptr;             // optional, not owned: filled in as it runs
};

// Runs one exec over the connected stream `fd` (not owned; left non-blocking
// and shut down for writing when the session ends). Writes to the stdio fds
// never change their flags; EPIPE on out/err discards the rest of that stream.
// The caller should ignore SIGPIPE.
Result<ExitStatus> RunExecSession(int fd, const ExecRequest& request, const StdioFds& stdio,
                                  const ExecSessionOptions& options = {});

}  // namespace vk::proto
