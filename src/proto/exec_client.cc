#include "proto/exec_client.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>

#include "base/pipe.h"
#include "proto/byte_queue.h"
#include "proto/flow_control.h"
#include "proto/frame_channel.h"
#include "proto/str_format.h"

namespace vk::proto {
namespace {

constexpr uint8_t kControlSignal = 1;
constexpr uint8_t kControlResize = 2;
constexpr size_t kControlRecord = 5;

// A host fd receiving one of the agent's output streams.
struct Sink {
  int fd = -1;
  Stream stream = Stream::kStdout;
  size_t chunk = PIPE_BUF;
  ByteQueue pending;
  ReceiveWindow window;
  bool discard = false;  // the destination went away (EPIPE): drop the rest
};

// A blocking pipe or tty that polled writable takes PIPE_BUF bytes without
// blocking; non-blocking fds and regular files take large writes.
size_t WriteChunkFor(int fd) {
  struct stat st {};
  const int flags = fcntl(fd, F_GETFL);
  if ((flags >= 0 && (flags & O_NONBLOCK)) || (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))) {
    return 64 * 1024;
  }
  return PIPE_BUF;
}

class ClientSession {
 public:
  ClientSession(FrameChannel channel, const StdioFds& stdio, const ExecSessionOptions& options)
      : channel_(std::move(channel)),
        stdin_fd_(stdio.in),
        control_(options.control),
        stats_(options.stats),
        progress_(options.progress),
        hello_done_(options.hello == HelloState::kDone) {
    out_.fd = stdio.out;
    out_.discard = stdio.out < 0;
    out_.chunk = WriteChunkFor(stdio.out);
    err_.fd = stdio.err;
    err_.discard = stdio.err < 0;
    err_.stream = Stream::kStderr;
    err_.chunk = WriteChunkFor(stdio.err);
  }

  Result<ExitStatus> Run(const ExecRequest& request, const std::optional<AttachRequest>& attach) {
    std::vector<uint8_t> request_frame;
    if (attach) {
      request_frame = EncodeAttach(*attach);
    } else {
      request_frame = VK_TRY(EncodeExecRequest(request));
    }
    if (!hello_done_) channel_.Queue(EncodeHello(OurHello(Role::kHost)));
    channel_.Queue(request_frame);
    if (stdin_fd_ < 0) CloseStdin();
    while (!exit_ || !out_.pending.empty() || !err_.pending.empty()) VK_TRY(PollOnce());
    // The agent waits for our close before it powers the VM off, so that
    // nothing it sent is still in flight (docs/protocol.md, "Boot flow").
    (void)channel_.Flush();
    shutdown(channel_.fd(), SHUT_WR);
    return *exit_;
  }

 private:
  Result<void> PollOnce();
  Result<void> OnSocket(short revents);
  Result<void> FlushToAgent();
  Result<void> HandleFrame(const Frame& frame);
  Result<void> OnData(Sink& sink, const std::vector<uint8_t>& data);
  Result<void> WriteSink(Sink& sink);
  void ReadStdin();
  void CloseStdin();
  void ReadControl();
  // Bytes of `sink`'s stream that reached their destination (or were
  // discarded): counted before the credit for them goes back, since the
  // agent forgets the bytes it sent once their credit returns.
  void Delivered(const Sink& sink, size_t bytes) {
    if (progress_ && bytes > 0) progress_->AddDelivered(sink.stream, bytes);
  }

  bool WantStdin() const {
    return stdin_open_ && !exit_ && stdin_credit_.available() > 0 && channel_.HasRoom();
  }

  FrameChannel channel_;
  int stdin_fd_;
  const SessionControl* control_;
  BufferStats* stats_;
  CommandProgress* progress_;
  bool hello_done_;
  bool stdin_open_ = true;
  bool eof_ = false;
  SendCredit stdin_credit_;
  Sink out_;
  Sink err_;
  std::optional<ExitStatus> exit_;
};

Result<void> ClientSession::PollOnce() {
  enum { kSocket, kStdin, kOut, kErr, kControl, kCount };
  pollfd fds[kCount] = {};
  fds[kSocket] = {eof_ ? -1 : channel_.fd(), 0, 0};
  if (!eof_ && channel_.HasRoom()) fds[kSocket].events |= POLLIN;
  if (channel_.WantsWrite() && !exit_) fds[kSocket].events |= POLLOUT;
  fds[kStdin] = {WantStdin() ? stdin_fd_ : -1, POLLIN, 0};
  fds[kOut] = {out_.pending.empty() ? -1 : out_.fd, POLLOUT, 0};
  fds[kErr] = {err_.pending.empty() ? -1 : err_.fd, POLLOUT, 0};
  fds[kControl] = {control_ ? control_->read_fd() : -1, POLLIN, 0};
  if (poll(fds, kCount, -1) < 0) {
    if (errno == EINTR) return Ok();
    return Error::FromErrno("poll exec session");
  }
  if (fds[kSocket].revents) VK_TRY(OnSocket(fds[kSocket].revents));
  // Control first: a resize or signal posted before more input must not be
  // overtaken by that input.
  if (fds[kControl].revents) ReadControl();
  if (fds[kStdin].revents) ReadStdin();
  if (fds[kOut].revents) VK_TRY(WriteSink(out_));
  if (fds[kErr].revents) VK_TRY(WriteSink(err_));
  if (stats_) {
    stats_->Note(channel_.pending_out(),
                 channel_.pending_in() + out_.pending.size() + err_.pending.size());
  }
  return FlushToAgent();
}

Result<void> ClientSession::FlushToAgent() {
  auto flushed = channel_.Flush();
  // Once Exit is in, the agent may power off while we still drain output to a
  // slow destination: what we would send (credit) no longer matters.
  if (exit_) return Ok();
  return std::move(flushed).Context("send to vk-agent");
}

Result<void> ClientSession::OnSocket(short revents) {
  if (revents & POLLOUT) VK_TRY(FlushToAgent());
  if (!(revents & (POLLIN | POLLHUP | POLLERR))) return Ok();
  auto received = channel_.Receive();
  if (!received.ok() && exit_) {
    eof_ = true;
    return Ok();
  }
  auto state = VK_TRY(std::move(received).Context("receive from vk-agent"));
  for (;;) {
    auto frame = VK_TRY(channel_.Next().Context("vk-agent sent a bad frame"));
    if (!frame) break;
    VK_TRY(HandleFrame(*frame));
  }
  if (state == FrameChannel::ReadState::kEof) {
    eof_ = true;
    if (!exit_) return Error("vk-agent closed the exec connection before the command exited");
  }
  return Ok();
}

Result<void> ClientSession::HandleFrame(const Frame& frame) {
  if (!hello_done_) {
    VK_TRY(AcceptHelloFrame(frame, Role::kAgent).Context("exec handshake"));
    hello_done_ = true;
    return Ok();
  }
  if (exit_) return Ok();  // nothing follows Exit; tolerate and ignore
  switch (frame.type) {
    case FrameType::kStdout: return OnData(out_, frame.payload);
    case FrameType::kStderr: return OnData(err_, frame.payload);
    case FrameType::kWindow: {
      auto update = VK_TRY(DecodeWindow(frame.payload));
      if (update.stream != Stream::kStdin) return Error("vk-agent granted credit for its output");
      return stdin_credit_.Grant(update.bytes).Context("vk-agent flow control");
    }
    case FrameType::kExit: exit_ = VK_TRY(DecodeExit(frame.payload)); return Ok();
    case FrameType::kStarted: {
      uint32_t pid = VK_TRY(DecodeStarted(frame.payload));
      if (progress_) progress_->SetPid(pid);
      return Ok();
    }
    case FrameType::kError: return Error(StrFormat("vk-agent: {}", DecodeError(frame.payload)));
    default:
      return Error(StrFormat("vk-agent sent an unexpected {} frame", FrameTypeName(frame.type)));
  }
}

Result<void> ClientSession::OnData(Sink& sink, const std::vector<uint8_t>& data) {
  VK_TRY(sink.window.OnData(data.size()).Context("vk-agent flow control"));
  if (sink.discard) {
    Delivered(sink, data.size());
    sink.window.OnConsumed(data.size());
    if (auto grant = sink.window.TakeUpdate(true)) {
      channel_.Queue(EncodeWindow({sink.stream, *grant}));
    }
    return Ok();
  }
  sink.pending.Append(data);
  return Ok();
}

Result<void> ClientSession::WriteSink(Sink& sink) {
  auto front = sink.pending.Front();
  const ssize_t written = write(sink.fd, front.data(), std::min(front.size(), sink.chunk));
  size_t consumed = 0;
  if (written >= 0) {
    consumed = static_cast<size_t>(written);
  } else if (errno == EPIPE) {
    sink.discard = true;
    consumed = front.size();
  } else if (errno != EAGAIN && errno != EINTR) {
    return Error::FromErrno(sink.stream == Stream::kStdout ? "write stdout" : "write stderr");
  }
  sink.pending.Pop(consumed);
  Delivered(sink, consumed);
  sink.window.OnConsumed(consumed);
  if (auto grant = sink.window.TakeUpdate(sink.pending.empty())) {
    channel_.Queue(EncodeWindow({sink.stream, *grant}));
  }
  return Ok();
}

void ClientSession::ReadStdin() {
  uint8_t buffer[kMaxDataChunk];
  const size_t want = std::min(sizeof(buffer), stdin_credit_.available());
  const ssize_t got = read(stdin_fd_, buffer, want);
  if (got < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (got <= 0) return CloseStdin();  // EOF, or an input error: the command sees EOF
  stdin_credit_.Consume(static_cast<size_t>(got));
  channel_.QueueData(FrameType::kStdin, {buffer, static_cast<size_t>(got)});
}

void ClientSession::CloseStdin() {
  stdin_open_ = false;
  channel_.Queue(EncodeFrame(FrameType::kStdinClose, {}));
}

void ClientSession::ReadControl() {
  uint8_t records[kControlRecord * 32];
  const ssize_t got = read(control_->read_fd(), records, sizeof(records));
  for (ssize_t at = 0; at + static_cast<ssize_t>(kControlRecord) <= got; at += kControlRecord) {
    const uint8_t* record = records + at;
    const uint32_t value = (uint32_t{record[1]} << 24) | (uint32_t{record[2]} << 16) |
                           (uint32_t{record[3]} << 8) | uint32_t{record[4]};
    if (record[0] == kControlSignal) {
      channel_.Queue(EncodeSignal(static_cast<int>(value)));
    } else if (record[0] == kControlResize) {
      channel_.Queue(
          EncodeResize({static_cast<uint16_t>(value >> 16), static_cast<uint16_t>(value)}));
    }
  }
}

}  // namespace

Result<SessionControl> SessionControl::Create() {
  Pipe pipe = VK_TRY_CTX(MakePipe(O_CLOEXEC | O_NONBLOCK), "session control");
  return SessionControl(std::move(pipe.read), std::move(pipe.write));
}

void SessionControl::Post(uint8_t kind, uint32_t value) const {
  const uint8_t record[kControlRecord] = {
      kind, static_cast<uint8_t>(value >> 24), static_cast<uint8_t>(value >> 16),
      static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value)};
  const int saved_errno = errno;  // callable from signal handlers
  (void)!write(write_.get(), record, sizeof(record));
  errno = saved_errno;
}

void SessionControl::ForwardSignal(int signo) const {
  Post(kControlSignal, static_cast<uint32_t>(signo));
}

void SessionControl::Resize(uint16_t rows, uint16_t cols) const {
  Post(kControlResize, (uint32_t{rows} << 16) | cols);
}

Result<ExitStatus> RunExecSession(int fd, const ExecRequest& request, const StdioFds& stdio,
                                  const ExecSessionOptions& options) {
  auto channel = VK_TRY(FrameChannel::Create(fd));
  ClientSession session(std::move(channel), stdio, options);
  return session.Run(request, options.attach);
}

}  // namespace vk::proto
