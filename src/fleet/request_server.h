// RequestServer: the controller's side of the virtctl protocol
// (proto/virtctl.h) on one unix socket: the fleet's controller.sock for
// `vk fleet` on the host, or a service VM's vsock.sock_4446 where that
// guest's `virtctl` connects arrive. Each connection carries one request
// line and gets reply lines; who asked is the socket it came in on, never
// anything the request says (a guest cannot claim to be the dev VM).
//
// One thread accepts; each connection is handled on a thread of its own
// (a `logs -f` may stream for hours), all joined when the server goes.
#pragma once

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/result.h"
#include "base/unique_fd.h"
#include "proto/virtctl.h"

namespace vk::fleet {

// A connection's stream, handed to the handler: replies go out through it.
class RequestStream {
 public:
  RequestStream(int fd, const std::atomic<bool>& stopping) : fd_(fd), stopping_(stopping) {}
  Result<void> Send(std::string_view line);
  // Whether the server is going away or the peer hung up (a `logs -f` ends).
  bool Done() const;

 private:
  int fd_;
  const std::atomic<bool>& stopping_;
};

class RequestServer {
 public:
  using Handler = std::function<void(const proto::VirtctlRequest& request, RequestStream& out)>;

  // Listens on `path` (0600; every peer must be our own uid).
  static Result<std::unique_ptr<RequestServer>> Listen(const std::string& path, Handler handler);
  ~RequestServer();  // stops accepting, ends connections, joins, unlinks the socket
  RequestServer(const RequestServer&) = delete;
  RequestServer& operator=(const RequestServer&) = delete;

 private:
  RequestServer(std::string path, UniqueFd listener, UniqueFd wake, Handler handler);
  void AcceptLoop();
  void Serve(int fd);

  struct Connection {
    UniqueFd fd;
    std::thread thread;
  };
  std::string path_;
  UniqueFd listener_;
  UniqueFd wake_;  // eventfd: ends AcceptLoop's poll
  Handler handler_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::list<Connection> connections_;
  std::thread accept_thread_;
};

}  // namespace vk::fleet
