// The command of `vk run -- CMD` / `vk launch -- CMD`: the agent calls the
// host back on kLaunchPort once the guest is up, and the command's session
// (stdio, signals, exit status) runs over that connection on a thread of
// its own while the VMM runs the machine. A VM restored from a checkpoint
// re-attaches to the command its agent kept instead (docs/protocol.md,
// "Re-attaching").
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <optional>
#include <string>
#include <thread>

#include "base/log.h"
#include "base/result.h"
#include "base/thread_role.h"
#include "base/unique_fd.h"
#include "base/unix_socket.h"
#include "proto/exec_client.h"
#include "proto/terminal_session.h"

namespace vk {

// Waits for the agent's connection and runs the command's session over it.
class CommandSession {
 public:
  // With `attach`, the session resumes the command a restored checkpoint's
  // agent kept, from those offsets, and `request` is not sent.
  CommandSession(UniqueFd listener, proto::ExecRequest request, proto::StdioFds stdio,
                 std::optional<proto::AttachRequest> attach = std::nullopt)
      : listener_(std::move(listener)),
        request_(std::move(request)),
        stdio_(stdio),
        attach_(attach),
        progress_(attach.value_or(proto::AttachRequest{})) {}
  ~CommandSession() { Join(); }

  Result<void> Start() {
    control_ = VK_TRY(proto::SessionControl::Create());  // before the sandbox: it makes a pipe
    if (::pipe2(cancel_, O_CLOEXEC) != 0) return Error::FromErrno("pipe");
    thread_ = std::thread([this] { Run(); });
    return Ok();
  }
  void Join() {
    if (cancel_[1] >= 0) {
      char byte = 0;
      ssize_t ignored = ::write(cancel_[1], &byte, 1);
      (void)ignored;
    }
    if (thread_.joinable()) thread_.join();
    for (int& fd : cancel_) {
      if (fd >= 0) ::close(fd), fd = -1;
    }
  }
  std::optional<proto::ExitStatus> status() const { return status_; }
  std::string error() const { return error_; }
  // From any thread: how far the command has got (pid 0 until the agent
  // reported it started; output offsets since it started), and whether the
  // session is over (the command ended, or the connection did).
  proto::AttachRequest Progress() const { return progress_.Load(); }
  bool ended() const { return ended_; }

 private:
  void Run() {
    EnterThreadRole(ThreadRole::kSession);
    UniqueFd connection = AcceptFromOwner();
    if (connection) {
      // Signals reach the command, and a tty gets raw stdin, only once it
      // runs: during the boot ^C still stops vk.
      proto::ExecSessionOptions session;
      session.control = &*control_;
      session.attach = attach_;
      session.progress = &progress_;
      auto result = proto::RunTerminalSession(connection.get(), request_, stdio_, session);
      if (result.ok()) {
        status_ = *result;
      } else {
        error_ = result.error().message();
      }
    }
    ended_ = true;
  }

  // The agent's call-back arrives through our own vsock device; any other
  // local user's connection is refused and the wait goes on.
  UniqueFd AcceptFromOwner() {
    while (true) {
      pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {cancel_[0], POLLIN, 0}};
      if (::poll(fds, 2, -1) <= 0 || (fds[1].revents & POLLIN)) return UniqueFd();
      UniqueFd connection(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!connection) return connection;
      auto owner = CheckPeerIsOwner(connection.get());
      if (owner.ok()) return connection;
      log::Warn("command socket: {}", owner.error().message());
    }
  }

  UniqueFd listener_;
  proto::ExecRequest request_;
  proto::StdioFds stdio_;
  std::optional<proto::AttachRequest> attach_;
  proto::CommandProgress progress_;
  std::atomic<bool> ended_{false};
  std::optional<proto::SessionControl> control_;
  int cancel_[2] = {-1, -1};
  std::thread thread_;
  std::optional<proto::ExitStatus> status_;
  std::string error_;
};

}  // namespace vk
