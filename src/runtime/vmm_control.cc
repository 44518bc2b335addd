#include "runtime/vmm_control.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/fd_io.h"
#include "base/log.h"
#include "base/pipe.h"
#include "base/unix_socket.h"
#include "proto/vsock_stream.h"

namespace vk {
namespace {

// Abuse bound: a request line is a few words; a peer sending more, or
// nothing, must not hold the VMM's only control thread.
constexpr size_t kMaxLine = 256;
constexpr int kRequestTimeoutMs = 5000;

constexpr std::string_view kCheckpoint = "checkpoint";
constexpr std::string_view kLeaveRunning = "checkpoint leave-running";

// A line without its newline, read within `timeout_ms`.
Result<std::string> ReadLine(int fd, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string line = VK_TRY(ReadLineBefore(fd, deadline, kMaxLine + 1));
  line.pop_back();
  return line;
}

// A client that went away has nothing to be told: the write's error is dropped.
void SendAll(int fd, const std::string& text) { (void)WriteAll(fd, text); }

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
  Pipe cancel = VK_TRY(MakePipe());
  server->cancel_read_ = std::move(cancel.read);
  server->cancel_write_ = std::move(cancel.write);
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
