// The VMM control socket: `vmm.sock` in a named VM's state directory, served
// by the VMM process itself (control.sock reaches the guest agent instead).
// It carries requests only the VMM can carry out, such as `vk checkpoint`.
//
// One request per connection, one line each way:
//   "checkpoint\n" or "checkpoint leave-running\n"
//   -> "ok TEXT\n" (TEXT: e.g. the checkpoint's directory) or "error: MESSAGE\n"
// The socket is 0600 in the 0700 state directory and every peer must be our
// own uid (SO_PEERCRED), like the VM's other sockets (base/unix_socket.h).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vk {

struct VmmRequest {
  enum class Kind { kCheckpoint };
  Kind kind = Kind::kCheckpoint;
  bool leave_running = false;  // checkpoint: the VM goes on running afterwards
};

// One request line (its newline removed). Anything else, including trailing
// words and control characters, is refused.
Result<VmmRequest> ParseVmmRequest(std::string_view line);
// The line for `request`, newline included.
std::string FormatVmmRequest(const VmmRequest& request);

// The reply line (newline removed): "ok TEXT" gives TEXT, "error: M" the
// error M; anything else is an error too.
Result<std::string> ParseVmmReply(std::string_view line);
std::string FormatVmmReply(const Result<std::string>& reply);

// Serves requests on a thread of its own (no sandbox role: a checkpoint
// writes files the device threads may not reach), one at a time.
class VmmControlServer {
 public:
  // Runs a parsed request; returns what the reply carries.
  using Handler = std::function<Result<std::string>(const VmmRequest&)>;

  // Listens on `path` (a stale socket file is replaced).
  static Result<std::unique_ptr<VmmControlServer>> Start(const std::string& path, Handler handler);
  // Stops accepting, waits for a request being served, removes the socket.
  ~VmmControlServer();
  VmmControlServer(const VmmControlServer&) = delete;
  VmmControlServer& operator=(const VmmControlServer&) = delete;

 private:
  VmmControlServer(std::string path, UniqueFd listener, Handler handler)
      : path_(std::move(path)), listener_(std::move(listener)), handler_(std::move(handler)) {}
  void Run();
  void Serve(int fd);

  std::string path_;
  UniqueFd listener_;
  Handler handler_;
  UniqueFd cancel_read_, cancel_write_;
  std::thread thread_;
};

// Sends `request` to the VMM at `socket` and waits up to `timeout` for its
// reply (a checkpoint writes the guest's memory: allow for it).
Result<std::string> SendVmmRequest(const std::string& socket, const VmmRequest& request,
                                   std::chrono::seconds timeout);

}  // namespace vk
