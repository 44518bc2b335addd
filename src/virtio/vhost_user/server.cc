#include "virtio/vhost_user/server.h"

#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "base/unix_socket.h"

namespace vk::virtio::vhost_user {

Result<std::unique_ptr<VhostUserServer>> VhostUserServer::Listen(const std::string& path,
                                                                 VhostUserBackend* backend,
                                                                 EventLoop* loop) {
  UniqueFd listener = VK_TRY(ListenUnix(path, /*backlog=*/4, SocketBlocking::kNonBlocking));
  std::unique_ptr<VhostUserServer> server(
      new VhostUserServer(path, std::move(listener), backend, loop));
  VK_TRY(server->Watch());
  return server;
}

VhostUserServer::~VhostUserServer() {
  if (watching_) loop_->Remove(listener_.get());
  backend_->Disconnect();
  ::unlink(path_.c_str());
}

Result<void> VhostUserServer::Watch() {
  VK_TRY(loop_->Add(listener_.get(), EPOLLIN, [this](uint32_t) { OnAcceptable(); }));
  watching_ = true;
  return Ok();
}

void VhostUserServer::OnAcceptable() {
  // Blocking: a message is read whole once it starts (backend.h).
  UniqueFd connection(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!connection) return;  // EAGAIN, or a peer that left the backlog
  if (auto owner = CheckPeerIsOwner(connection.get()); !owner.ok()) {
    log::Warn("vhost-user {}: {}", path_, owner.error().message());
    return;
  }
  // While one front end is served, the next waits in the backlog: stop
  // watching the listener (it would stay readable) until this one closes.
  loop_->Remove(listener_.get());
  watching_ = false;
  auto served = backend_->Serve(std::move(connection), [this] {
    if (auto watched = Watch(); !watched.ok()) {
      log::Error("vhost-user {}: {}", path_, watched.error().message());
    }
  });
  if (!served.ok()) {
    log::Warn("vhost-user {}: {}", path_, served.error().message());
    (void)Watch();
    return;
  }
  ++connections_;
  log::Info("vhost-user {}: front end connected", path_);
}

}  // namespace vk::virtio::vhost_user
