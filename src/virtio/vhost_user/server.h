// Listening side of a vhost-user device daemon: the daemon is the server of
// the unix socket and the front end (QEMU's `-chardev socket,path=...`)
// connects to it. One front end at a time, as a back end serves one device
// to one VMM ("Communication" in vhost-user.rst); further connections wait
// in the listen backlog until the current one closes, so a restarted VMM
// reconnects to a back end that has dropped the old connection's state.
#pragma once

#include <memory>
#include <string>

#include "base/event_loop.h"
#include "base/result.h"
#include "base/unique_fd.h"
#include "virtio/vhost_user/backend.h"

namespace vk::virtio::vhost_user {

class VhostUserServer {
 public:
  // Binds `path` (mode 0600; the path must not exist) and serves
  // connections with `backend` on `loop`. Only a peer of our own uid is
  // served (SO_PEERCRED): the socket reaches a guest's files.
  // backend, loop: non-owning, outlive the server.
  static Result<std::unique_ptr<VhostUserServer>> Listen(const std::string& path,
                                                         VhostUserBackend* backend,
                                                         EventLoop* loop);
  VhostUserServer(const VhostUserServer&) = delete;
  VhostUserServer& operator=(const VhostUserServer&) = delete;
  // Stops listening, drops a served connection and removes the socket file.
  ~VhostUserServer();

  // Front ends served so far (tests, logs).
  uint64_t connections() const { return connections_; }

 private:
  VhostUserServer(std::string path, UniqueFd listener, VhostUserBackend* backend, EventLoop* loop)
      : path_(std::move(path)), listener_(std::move(listener)), backend_(backend), loop_(loop) {}
  Result<void> Watch();
  void OnAcceptable();

  std::string path_;
  UniqueFd listener_;
  VhostUserBackend* backend_;
  EventLoop* loop_;
  bool watching_ = false;
  uint64_t connections_ = 0;
};

}  // namespace vk::virtio::vhost_user
