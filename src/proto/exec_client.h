// Host side of one exec session (docs/protocol.md): sends the request, pumps
// the host's stdin to the agent and the agent's stdout/stderr to host fds
// under flow control, and returns how the command ended.
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <optional>

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

// How far a command's session has got, readable from other threads while
// it runs: the command's pid once the agent reported it (0 before), and the
// bytes of each output stream handed on to their destination since the
// command started. What a restored checkpoint re-attaches with.
class CommandProgress {
 public:
  explicit CommandProgress(const AttachRequest& start = {})
      : pid_(start.pid), stdout_(start.stdout_bytes), stderr_(start.stderr_bytes) {}
  AttachRequest Load() const { return {pid_.load(), stdout_.load(), stderr_.load()}; }
  void SetPid(uint32_t pid) { pid_ = pid; }
  void AddDelivered(Stream stream, uint64_t bytes) {
    (stream == Stream::kStderr ? stderr_ : stdout_) += bytes;
  }

 private:
  std::atomic<uint32_t> pid_;
  std::atomic<uint64_t> stdout_;
  std::atomic<uint64_t> stderr_;
};

struct ExecSessionOptions {
  HelloState hello = HelloState::kPending;
  const SessionControl* control = nullptr;  // optional, not owned
  BufferStats* stats = nullptr;             // optional, not owned: filled in as it runs
  // Set: re-attach to the command the agent kept when its connection was
  // lost (docs/protocol.md, "Re-attaching"): an Attach frame goes instead of
  // the request, whose fields are then unused.
  std::optional<AttachRequest> attach;
  CommandProgress* progress = nullptr;  // optional, not owned: updated as it runs
};

// Runs one exec over the connected stream `fd` (not owned; left non-blocking
// and shut down for writing when the session ends), or re-attaches to one
// (options.attach). Writes to the stdio fds
// never change their flags; EPIPE on out/err discards the rest of that stream.
// The caller should ignore SIGPIPE.
Result<ExitStatus> RunExecSession(int fd, const ExecRequest& request, const StdioFds& stdio,
                                  const ExecSessionOptions& options = {});

}  // namespace vk::proto
