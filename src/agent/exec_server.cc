#include "agent/exec_server.h"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "agent/spawn.h"
#include "base/defer.h"
#include "proto/byte_queue.h"
#include "proto/flow_control.h"
#include "proto/str_format.h"

namespace vk::agent {

using proto::StrFormat;
namespace {

using proto::ExitStatus;
using proto::Frame;
using proto::FrameType;
using proto::Stream;

int64_t NowMs() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1000 + now.tv_nsec / 1000000;
}

// One of the command's output streams, read only while the host gives credit.
struct Source {
  int fd = -1;
  Stream stream = Stream::kStdout;
  proto::SendCredit credit;
  bool eof = true;
  // A resumable session's bytes sent whose credit has not come back (the host
  // may not have handed them on yet), and the stream offset of the first.
  // Bounded by the window: the host returns credit only for bytes it got.
  proto::ByteQueue unacked;
  uint64_t acked = 0;
};

// How the wait for the host's close after Exit ended.
enum class LingerEnd { kClosed, kTimedOut, kLost };

class ServerSession {
 public:
  ServerSession(proto::FrameChannel channel, const ExecServerOptions& options, ChildReaper* reaper)
      : channel_(std::move(channel)),
        options_(options),
        reaper_(reaper),
        hello_done_(options.hello == proto::HelloState::kDone) {
    err_.stream = Stream::kStderr;
  }

  Result<ExitStatus> Run() {
    if (!hello_done_) channel_.Queue(proto::EncodeHello(proto::OurHello(proto::Role::kAgent)));
    auto result = Serve();
    if (result.ok()) return result;
    if (child_ && !exit_) {
      KillGroup(SIGKILL);
      int wait_status;
      while (waitpid(child_->pid, &wait_status, 0) < 0 && errno == EINTR) {
      }
    }
    channel_.Queue(proto::EncodeError(result.error().message()));
    (void)channel_.Flush();
    return result;
  }

 private:
  Result<ExitStatus> Serve();
  Result<void> Deliver();
  Result<void> ReceiveUntil(const bool& done, int timeout_ms, const char* what);
  Result<void> StartCommand(const Frame& frame);
  Result<void> Reattach();
  Result<void> OnAttach(const proto::AttachRequest& attach);
  Result<void> Resume(Source& source, uint64_t offset);
  Result<void> Acknowledge(Source& source, uint32_t bytes);
  Result<void> PollOnce();
  Result<void> OnSocket(short revents);
  Result<void> ProcessFrames();
  Result<void> HandleFrame(const Frame& frame);
  Result<void> OnStdin(const std::vector<uint8_t>& data);
  void WriteStdin();
  void CloseChildStdin();
  void GrantStdin();
  void ReadOutput(Source& source);
  void OnResize(const proto::Resize& resize);
  void KillGroup(int signo);
  LingerEnd Linger();

  // A failed send or receive: the connection is gone without the host's
  // close (which reads as EOF). Remembered, so a resumable session waits for
  // the host to re-attach instead of ending.
  template <typename T>
  Result<T> Watch(Result<T> result) {
    if (!result.ok()) lost_ = true;
    return result;
  }

  bool Starved(const Source& source) const {
    return !source.eof && (source.credit.available() == 0 || !channel_.HasRoom());
  }
  bool Finished() const {
    if (!exit_) return false;
    if (out_.eof && err_.eof) return true;
    return !Starved(out_) && !Starved(err_) &&
           NowMs() - last_activity_ms_ >= options_.drain_grace_ms;
  }

  proto::FrameChannel channel_;
  UniqueFd reconnected_;  // the connection channel_ uses after a re-attach
  ExecServerOptions options_;
  ChildReaper* reaper_;  // not owned
  bool hello_done_;
  uint16_t host_minor_ = 0;  // from the host's Hello (0: exchanged by the caller)
  bool request_seen_ = false;
  bool attached_ = true;  // false on a new connection until the host's Attach
  bool lost_ = false;
  std::optional<SpawnedChild> child_;
  proto::ByteQueue stdin_pending_;
  proto::ReceiveWindow stdin_window_;
  bool stdin_close_requested_ = false;
  bool stdin_closed_ = false;
  Source out_;
  Source err_;
  std::optional<ExitStatus> exit_;
  int64_t last_activity_ms_ = 0;
};

Result<ExitStatus> ServerSession::Serve() {
  VK_TRY(ReceiveUntil(request_seen_, -1, "sending a request"));
  for (;;) {
    auto delivered = Deliver();
    if (delivered.ok()) return *exit_;
    if (!lost_ || !options_.reconnect) return std::move(delivered).error();
    VK_TRY(Reattach().Context("the connection to the host was lost"));
  }
}

// Streams until the command's Exit is out and the host has closed.
Result<void> ServerSession::Deliver() {
  while (!Finished()) VK_TRY(PollOnce());
  channel_.Queue(proto::EncodeExit(*exit_));
  VK_TRY(Watch(channel_.FlushBlocking(30000)).Context("send exit status"));
  shutdown(channel_.fd(), SHUT_WR);
  // Lost instead of closed: the Exit may have been lost with it.
  if (Linger() == LingerEnd::kLost && options_.reconnect) {
    return Error("the connection failed before the host confirmed the exit status");
  }
  return Ok();
}

// Serves frames until `done` (set by a handled frame), for at most
// timeout_ms (-1: no limit); `what` names the awaited step in errors.
Result<void> ServerSession::ReceiveUntil(const bool& done, int timeout_ms, const char* what) {
  const int64_t deadline = NowMs() + timeout_ms;
  while (!done) {
    int wait = -1;
    if (timeout_ms >= 0 && (wait = static_cast<int>(deadline - NowMs())) <= 0) {
      return Error(StrFormat("the host did not finish {} within {} ms", what, timeout_ms));
    }
    pollfd entry{channel_.fd(), static_cast<short>(POLLIN | (channel_.WantsWrite() ? POLLOUT : 0)),
                 0};
    if (poll(&entry, 1, wait) < 0 && errno != EINTR) return Error::FromErrno("poll");
    VK_TRY(Watch(channel_.Flush()));
    if (!(entry.revents & (POLLIN | POLLHUP | POLLERR))) continue;
    auto state = VK_TRY(Watch(channel_.Receive()));
    VK_TRY(ProcessFrames());
    if (!done && state == proto::FrameChannel::ReadState::kEof) {
      return Error(StrFormat("host closed the exec connection before {}", what));
    }
  }
  return Ok();
}

Result<void> ServerSession::StartCommand(const Frame& frame) {
  auto request = VK_TRY(proto::DecodeExecRequest(frame.payload).Context("bad exec request"));
  child_ = VK_TRY(SpawnCommand(request).Context(StrFormat("start {}", request.argv[0])));
  request_seen_ = true;
  // A 1.0 host would take the new frame for a broken stream.
  if (host_minor_ >= 1) channel_.Queue(proto::EncodeStarted(static_cast<uint32_t>(child_->pid)));
  out_.fd = child_->stdout_fd.get();
  out_.eof = false;
  err_.fd = child_->stderr_fd.get();
  err_.eof = !child_->stderr_fd.valid();
  return Ok();
}

// The host is gone without closing (a restore reset every vsock connection):
// a new connection, on which the host's Attach says where it resumes. One
// lost again before that (the VM was saved and restored meanwhile) is
// replaced by the next.
Result<void> ServerSession::Reattach() {
  for (;;) {
    UniqueFd fd = VK_TRY(options_.reconnect());
    channel_ = VK_TRY(proto::FrameChannel::Create(fd.get()));
    reconnected_ = std::move(fd);
    lost_ = false;
    hello_done_ = false;
    attached_ = false;
    channel_.Queue(proto::EncodeHello(proto::OurHello(proto::Role::kAgent)));
    auto attached = ReceiveUntil(attached_, options_.attach_timeout_ms, "re-attaching");
    if (attached.ok() || !lost_) return attached;
  }
}

Result<void> ServerSession::OnAttach(const proto::AttachRequest& attach) {
  if (attach.pid != static_cast<uint32_t>(child_->pid)) {
    return Error(
        StrFormat("Attach names command {}; this agent keeps {}", attach.pid, child_->pid));
  }
  VK_TRY(Resume(out_, attach.stdout_bytes));
  VK_TRY(Resume(err_, attach.stderr_bytes));
  stdin_window_ = proto::ReceiveWindow();  // the new connection's host starts with a full window
  attached_ = true;
  return Ok();
}

// Sends `source` again from `offset`, which the host has handed on: the
// bytes before it are dropped, the rest go out first on the new connection,
// under its fresh window.
Result<void> ServerSession::Resume(Source& source, uint64_t offset) {
  const uint64_t sent = source.acked + source.unacked.size();
  const char* name = source.stream == Stream::kStdout ? "stdout" : "stderr";
  if (offset < source.acked || offset > sent) {
    return Error(StrFormat("cannot resume {} at byte {}: the agent holds bytes {} to {}", name,
                           offset, source.acked, sent));
  }
  source.unacked.Pop(static_cast<size_t>(offset - source.acked));
  source.acked = offset;
  source.credit = proto::SendCredit();
  auto replay = source.unacked.Front();
  if (replay.size() > source.credit.available()) {  // Acknowledge keeps it within a window
    return Error(StrFormat("{} bytes of {} to send again exceed a window", replay.size(), name));
  }
  const FrameType type = source.stream == Stream::kStdout ? FrameType::kStdout : FrameType::kStderr;
  for (size_t at = 0; at < replay.size(); at += proto::kMaxDataChunk) {
    const size_t chunk = std::min(proto::kMaxDataChunk, replay.size() - at);
    source.credit.Consume(chunk);
    channel_.QueueData(type, replay.subspan(at, chunk));
  }
  return Ok();
}

// Credit returned for `bytes` of `source`: the host has handed them on, so
// a resumable session need not keep them.
Result<void> ServerSession::Acknowledge(Source& source, uint32_t bytes) {
  if (!options_.reconnect) return Ok();
  if (bytes > source.unacked.size()) {
    return Error(StrFormat("host returned credit for {} bytes; only {} are unacknowledged", bytes,
                           source.unacked.size()));
  }
  source.unacked.Pop(bytes);
  source.acked += bytes;
  return Ok();
}

Result<void> ServerSession::PollOnce() {
  enum { kSocket, kStdin, kOut, kErr, kReaper, kCount };
  const bool want_stdin = !stdin_pending_.empty() && child_->stdin_fd.valid();
  pollfd fds[kCount] = {};
  fds[kSocket] = {channel_.fd(), static_cast<short>(POLLIN | (channel_.WantsWrite() ? POLLOUT : 0)),
                  0};
  fds[kStdin] = {want_stdin ? child_->stdin_fd.get() : -1, POLLOUT, 0};
  fds[kOut] = {out_.eof || Starved(out_) ? -1 : out_.fd, POLLIN, 0};
  fds[kErr] = {err_.eof || Starved(err_) ? -1 : err_.fd, POLLIN, 0};
  fds[kReaper] = {reaper_->fd(), POLLIN, 0};
  int timeout = -1;
  if (exit_)
    timeout = static_cast<int>(
        std::max<int64_t>(1, last_activity_ms_ + options_.drain_grace_ms - NowMs()));
  if (poll(fds, kCount, timeout) < 0 && errno != EINTR) return Error::FromErrno("poll");
  if (fds[kSocket].revents) VK_TRY(OnSocket(fds[kSocket].revents));
  if (fds[kStdin].revents) WriteStdin();
  if (fds[kOut].revents) ReadOutput(out_);
  if (fds[kErr].revents) ReadOutput(err_);
  if (!exit_ && fds[kReaper].revents) {
    exit_ = reaper_->Reap(child_->pid);
    if (exit_) last_activity_ms_ = NowMs();
  }
  if (options_.stats) {
    options_.stats->Note(channel_.pending_out(), channel_.pending_in() + stdin_pending_.size());
  }
  // Waiting for credit is not silence: the grace period restarts after it.
  if (Starved(out_) || Starved(err_)) last_activity_ms_ = NowMs();
  return Watch(channel_.Flush()).Context("send to host");
}

Result<void> ServerSession::OnSocket(short revents) {
  if (revents & POLLOUT) VK_TRY(Watch(channel_.Flush()).Context("send to host"));
  if (!(revents & (POLLIN | POLLHUP | POLLERR))) return Ok();
  auto state = VK_TRY(Watch(channel_.Receive()).Context("receive from host"));
  VK_TRY(ProcessFrames());
  if (state == proto::FrameChannel::ReadState::kEof) {
    return Error("host closed the exec connection; killed the command");
  }
  return Ok();
}

Result<void> ServerSession::ProcessFrames() {
  for (;;) {
    auto frame = VK_TRY(channel_.Next().Context("host sent a bad frame"));
    if (!frame) return Ok();
    VK_TRY(HandleFrame(*frame));
  }
}

Result<void> ServerSession::HandleFrame(const Frame& frame) {
  if (!hello_done_) {
    auto hello =
        VK_TRY(proto::AcceptHelloFrame(frame, proto::Role::kHost).Context("exec handshake"));
    host_minor_ = hello.minor;
    hello_done_ = true;
    return Ok();
  }
  if (frame.type == FrameType::kError)
    return Error(StrFormat("host aborted: {}", proto::DecodeError(frame.payload)));
  if (!request_seen_) {
    if (frame.type != FrameType::kExecRequest) {
      return Error(StrFormat("expected ExecRequest, got {}", proto::FrameTypeName(frame.type)));
    }
    return StartCommand(frame);
  }
  if (!attached_) {
    if (frame.type != FrameType::kAttach) {
      return Error(StrFormat("expected Attach, got {}", proto::FrameTypeName(frame.type)));
    }
    return OnAttach(VK_TRY(proto::DecodeAttach(frame.payload)));
  }
  switch (frame.type) {
    case FrameType::kStdin: return OnStdin(frame.payload);
    case FrameType::kStdinClose:
      stdin_close_requested_ = true;
      if (stdin_pending_.empty()) CloseChildStdin();
      return Ok();
    case FrameType::kResize: OnResize(VK_TRY(proto::DecodeResize(frame.payload))); return Ok();
    case FrameType::kSignal: KillGroup(VK_TRY(proto::DecodeSignal(frame.payload))); return Ok();
    case FrameType::kWindow: {
      auto update = VK_TRY(proto::DecodeWindow(frame.payload));
      if (update.stream == Stream::kStdin) return Error("host granted credit for stdin");
      auto& source = update.stream == Stream::kStdout ? out_ : err_;
      VK_TRY(source.credit.Grant(update.bytes).Context("host flow control"));
      return Acknowledge(source, update.bytes).Context("host flow control");
    }
    default:
      return Error(StrFormat("unexpected {} frame from host", proto::FrameTypeName(frame.type)));
  }
}

Result<void> ServerSession::OnStdin(const std::vector<uint8_t>& data) {
  VK_TRY(stdin_window_.OnData(data.size()).Context("host flow control"));
  if (stdin_close_requested_) return Error("host sent stdin after closing it");
  if (stdin_closed_) {  // the command closed its stdin: drop the bytes, keep credit flowing
    stdin_window_.OnConsumed(data.size());
    GrantStdin();
    return Ok();
  }
  stdin_pending_.Append(data);
  return Ok();
}

void ServerSession::WriteStdin() {
  auto front = stdin_pending_.Front();
  const ssize_t written = write(child_->stdin_fd.get(), front.data(), front.size());
  size_t consumed = 0;
  if (written >= 0) {
    consumed = static_cast<size_t>(written);
  } else if (errno != EAGAIN && errno != EINTR) {
    consumed = front.size();  // EPIPE: the command stopped reading; drop its input
    CloseChildStdin();
  }
  stdin_pending_.Pop(consumed);
  if (stdin_closed_) {
    consumed += stdin_pending_.size();
    stdin_pending_.Clear();
  }
  stdin_window_.OnConsumed(consumed);
  GrantStdin();
  if (stdin_pending_.empty() && stdin_close_requested_) CloseChildStdin();
}

void ServerSession::CloseChildStdin() {
  if (stdin_closed_) return;
  stdin_closed_ = true;
  if (!child_->tty) {
    child_->stdin_fd.Reset();
    return;
  }
  // A terminal has no "close": in canonical mode the EOF character makes
  // the reader's read() return 0, which is what a closed pipe would do.
  termios settings{};
  if (tcgetattr(child_->stdin_fd.get(), &settings) == 0 && (settings.c_lflag & ICANON)) {
    const char eof_char = static_cast<char>(settings.c_cc[VEOF]);
    (void)!write(child_->stdin_fd.get(), &eof_char, 1);
  }
}

void ServerSession::GrantStdin() {
  if (auto grant = stdin_window_.TakeUpdate(stdin_pending_.empty())) {
    channel_.Queue(proto::EncodeWindow({Stream::kStdin, *grant}));
  }
}

void ServerSession::ReadOutput(Source& source) {
  uint8_t buffer[proto::kMaxDataChunk];
  const size_t want = std::min(sizeof(buffer), source.credit.available());
  const ssize_t got = read(source.fd, buffer, want);
  if (got < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (got <= 0) {  // EOF, or EIO from a pty master whose terminal was closed
    source.eof = true;
    return;
  }
  source.credit.Consume(static_cast<size_t>(got));
  const std::span<const uint8_t> data(buffer, static_cast<size_t>(got));
  channel_.QueueData(source.stream == Stream::kStdout ? FrameType::kStdout : FrameType::kStderr,
                     data);
  if (options_.reconnect) source.unacked.Append(data);
  last_activity_ms_ = NowMs();
}

void ServerSession::OnResize(const proto::Resize& resize) {
  if (!child_->tty) return;
  // The kernel sends SIGWINCH to the terminal's foreground process group.
  winsize size{resize.rows, resize.cols, 0, 0};
  ioctl(child_->stdout_fd.get(), TIOCSWINSZ, &size);
}

void ServerSession::KillGroup(int signo) {
  if (exit_) return;  // the pid may already be reused
  pid_t group = child_->pid;
  if (child_->tty) {
    const pid_t foreground = tcgetpgrp(child_->stdout_fd.get());
    if (foreground > 0 && signo != SIGKILL) group = foreground;
  }
  if (kill(-group, signo) < 0 && errno == ESRCH) kill(child_->pid, signo);  // before its setsid()
  if (signo == SIGKILL && group != child_->pid) kill(-child_->pid, SIGKILL);
}

LingerEnd ServerSession::Linger() {
  const int64_t deadline = NowMs() + options_.linger_ms;
  char scratch[4096];
  for (int64_t left; (left = deadline - NowMs()) > 0;) {
    pollfd entry{channel_.fd(), POLLIN, 0};
    if (poll(&entry, 1, static_cast<int>(left)) <= 0) continue;
    const ssize_t got = read(channel_.fd(), scratch, sizeof(scratch));
    if (got == 0) return LingerEnd::kClosed;
    if (got < 0 && errno != EAGAIN && errno != EINTR) return LingerEnd::kLost;
  }
  return LingerEnd::kTimedOut;
}

}  // namespace

Result<ExitStatus> ServeExec(int fd, const ExecServerOptions& options) {
  auto channel = VK_TRY(proto::FrameChannel::Create(fd));
  auto reaper = VK_TRY(ChildReaper::Install(options.reap));
  // Writes to a command's closed stdin must fail with EPIPE, not kill us.
  struct sigaction ignore {
  }, previous{};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &previous);
  Defer restore([&] { sigaction(SIGPIPE, &previous, nullptr); });
  ServerSession session(std::move(channel), options, reaper.get());
  return session.Run();
}

}  // namespace vk::agent
