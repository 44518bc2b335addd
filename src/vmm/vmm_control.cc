#include "vmm/vmm_control.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "base/unix_socket.h"

namespace vk {
namespace {

// Abuse bound: a request line is a few words; a peer sending more, or
// nothing, must not hold the VMM's only control thread.
constexpr size_t kMaxLine = 256;
constexpr int kRequestTimeoutMs = 5000;

constexpr std::string_view kCheckpoint = "checkpoint";
constexpr std::string_view kLeaveRunning = "checkpoint leave-running";

// Reads up to a newline within `timeout_ms` overall (-1: no limit); the
// line without it, or an error.
Result<std::string> ReadLine(int fd, int timeout_ms) {
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (line.size() <= kMaxLine) {
    int wait = -1;
    if (timeout_ms >= 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return Error("timed out waiting for a line");
      wait = static_cast<int>(left.count());
    }
    pollfd entry{fd, POLLIN, 0};
    int ready = ::poll(&entry, 1, wait);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return Error::FromErrno("poll");
    if (ready == 0) continue;  // the deadline check above ends it
    char c;
    ssize_t got = ::recv(fd, &c, 1, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Error::FromErrno("read");
    if (got == 0) return Error("the connection closed before a full line");
    if (c == '\n') return line;
    line += c;
  }
  return Error("line longer than " + std::to_string(kMaxLine) + " bytes");
}

void SendAll(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t sent = ::send(fd, text.data() + done, text.size() - done, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return;  // the client went away: nothing to tell it
    done += static_cast<size_t>(sent);
  }
}

}  // namespace

Result<VmmRequest> ParseVmmRequest(std::string_view line) {
  if (line == kCheckpoint) return VmmRequest{VmmRequest::Kind::kCheckpoint, false};
  if (line == kLeaveRunning) return VmmRequest{VmmRequest::Kind::kCheckpoint, true};
  std::string shown;
  for (char c : line.substr(0, 40)) shown += (c >= 0x20 && c < 0x7f) ? c : '?';
  return Error("unknown request \"" + shown + "\" (this vk knows: checkpoint [leave-running])");
}

std::string FormatVmmRequest(const VmmRequest& request) {
  return std::string(request.leave_running ? kLeaveRunning : kCheckpoint) + "\n";
}

Result<std::string> ParseVmmReply(std::string_view line) {
  if (line.starts_with("ok ")) return std::string(line.substr(3));
  if (line == "ok") return std::string();
  if (line.starts_with("error: ")) return Error(std::string(line.substr(7)));
  return Error("the VMM sent an unexpected reply");
}

std::string FormatVmmReply(const Result<std::string>& reply) {
  std::string text = reply.ok() ? "ok " + *reply : "error: " + reply.error().message();
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';  // one line, whatever the message holds
  }
  return text + "\n";
}

Result<std::unique_ptr<VmmControlServer>> VmmControlServer::Start(const std::string& path,
                                                                  Handler handler) {
  ::unlink(path.c_str());  // a socket file left by an earlier VMM of this VM
  UniqueFd listener = VK_TRY(ListenUnix(path, 4));
  std::unique_ptr<VmmControlServer> server(
      new VmmControlServer(path, std::move(listener), std::move(handler)));
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Error::FromErrno("pipe");
  server->cancel_read_ = UniqueFd(fds[0]);
  server->cancel_write_ = UniqueFd(fds[1]);
  // A thread without a sandbox role, started by the (unconfined) caller.
  server->thread_ = std::thread([raw = server.get()] { raw->Run(); });
  return server;
}

VmmControlServer::~VmmControlServer() {
  if (cancel_write_) {
    char byte = 0;
    (void)!::write(cancel_write_.get(), &byte, 1);
  }
  if (thread_.joinable()) thread_.join();
  ::unlink(path_.c_str());
}

void VmmControlServer::Run() {
  while (true) {
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {cancel_read_.get(), POLLIN, 0}};
    int ready = ::poll(fds, 2, -1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0 || (fds[1].revents & POLLIN)) return;
    UniqueFd connection(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!connection) continue;
    if (auto owner = CheckPeerIsOwner(connection.get()); !owner.ok()) {
      log::Warn("vmm.sock: {}", owner.error().message());
      continue;
    }
    Serve(connection.get());
  }
}

void VmmControlServer::Serve(int fd) {
  auto line = ReadLine(fd, kRequestTimeoutMs);
  if (!line.ok()) {
    SendAll(fd, FormatVmmReply(std::move(line).error().WithContext("bad request")));
    return;
  }
  auto request = ParseVmmRequest(*line);
  if (!request.ok()) {
    SendAll(fd, FormatVmmReply(std::move(request).error()));
    return;
  }
  SendAll(fd, FormatVmmReply(handler_(*request)));
}

Result<std::string> SendVmmRequest(const std::string& socket, const VmmRequest& request,
                                   std::chrono::seconds timeout) {
  UniqueFd fd = VK_TRY(ConnectUnix(socket));
  SendAll(fd.get(), FormatVmmRequest(request));
  std::string line =
      VK_TRY_CTX(ReadLine(fd.get(), static_cast<int>(std::chrono::milliseconds(timeout).count())),
                 "no reply from the VMM");
  return ParseVmmReply(line);
}

}  // namespace vk
