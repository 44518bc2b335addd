#include "fleet/request_server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "base/fd_io.h"
#include "base/log.h"
#include "base/unix_socket.h"

namespace vk::fleet {
namespace {

// A client has this long to send its request line once connected.
constexpr auto kRequestTimeout = std::chrono::seconds(10);

}  // namespace

Result<void> RequestStream::Send(std::string_view line) { return WriteAll(fd_, line); }

bool RequestStream::Done() const {
  if (stopping_.load()) return true;
  pollfd peer{fd_, POLLRDHUP, 0};
  return ::poll(&peer, 1, 0) > 0 && (peer.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

Result<std::unique_ptr<RequestServer>> RequestServer::Listen(const std::string& path,
                                                             Handler handler) {
  UniqueFd listener = VK_TRY(ListenUnix(path));
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake) return Error::FromErrno("eventfd");
  std::unique_ptr<RequestServer> server(
      new RequestServer(path, std::move(listener), std::move(wake), std::move(handler)));
  RequestServer* raw = server.get();
  server->accept_thread_ = std::thread([raw] { raw->AcceptLoop(); });
  return server;
}

RequestServer::RequestServer(std::string path, UniqueFd listener, UniqueFd wake, Handler handler)
    : path_(std::move(path)),
      listener_(std::move(listener)),
      wake_(std::move(wake)),
      handler_(std::move(handler)) {}

RequestServer::~RequestServer() {
  stopping_ = true;
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof(one));
  if (accept_thread_.joinable()) accept_thread_.join();
  std::list<Connection> connections;
  {
    std::lock_guard lock(mutex_);
    // Unblocks handlers waiting on their peer; their fds stay open until joined.
    for (Connection& c : connections_) ::shutdown(c.fd.get(), SHUT_RDWR);
    connections.swap(connections_);
  }
  for (Connection& c : connections) c.thread.join();
  ::unlink(path_.c_str());
}

void RequestServer::AcceptLoop() {
  while (!stopping_.load()) {
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 || fds[1].revents != 0) continue;
    UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!fd) continue;
    if (auto owner = CheckPeerIsOwner(fd.get()); !owner.ok()) {
      log::Warn("{}: refused: {}", path_, owner.error().message());
      continue;
    }
    std::lock_guard lock(mutex_);
    // Reap handlers that finished, so a long-lived server does not pile them up.
    connections_.remove_if([](Connection& c) {
      if (c.fd) return false;
      c.thread.join();
      return true;
    });
    Connection& c = connections_.emplace_back();
    c.fd = std::move(fd);
    int raw = c.fd.get();
    c.thread = std::thread([this, raw, &c] {
      Serve(raw);
      std::lock_guard done(mutex_);
      c.fd.Reset();  // marks it finished for the reaper
    });
  }
}

void RequestServer::Serve(int fd) {
  RequestStream out(fd, stopping_);
  auto line = ReadLineBefore(fd, std::chrono::steady_clock::now() + kRequestTimeout,
                             proto::kMaxVirtctlLine);
  if (!line.ok()) return;
  auto request = proto::DecodeVirtctlRequest(*line);
  if (!request.ok()) {
    proto::VirtctlReply reply;
    reply.ok = false;
    reply.error = request.error().message();
    (void)out.Send(proto::EncodeVirtctlReply(reply));
    return;
  }
  handler_(*request, out);
}

}  // namespace vk::fleet
