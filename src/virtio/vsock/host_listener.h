// A listening unix socket of the vsock device (the Firecracker-style
// <uds_path> and the dedicated exec.sock/control.sock), watched by the
// device loop. It hands out connections of this uid only (CheckPeerIsOwner,
// base/unix_socket.h: another local user must never reach the guest), and
// survives running out of file descriptors: accept(2) failing with EMFILE
// leaves the connection queued and the listener readable, so a level-
// triggered loop would call it again at once, forever. Instead the listener
// is taken out of the loop for kBackoff (a timerfd made up front brings it
// back) and the failure is logged, rate-limited.
//
// Threading: its loop callbacks take the device's lock (device.h) and then
// check that the listener still exists, as the device may destroy it (on
// reset, from a vCPU thread, holding that lock) while a callback waits.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "base/event_loop.h"
#include "base/result.h"
#include "base/unique_fd.h"

namespace vk::virtio::vsock {

class HostListener : public std::enable_shared_from_this<HostListener> {
 public:
  static constexpr std::chrono::milliseconds kBackoff{100};
  // Gets each accepted connection (non-blocking, close-on-exec), called
  // with the lock held.
  using OnClient = std::function<void(UniqueFd client)>;
  // accept4(listener, ...) or a test's stand-in; returns an fd or -1/errno.
  using AcceptFn = std::function<int(int listener)>;

  // Listens on `path` (0600, replacing a stale socket file). `loop` and
  // `lock` are not owned and outlive the listener.
  static Result<std::shared_ptr<HostListener>> Create(EventLoop* loop, std::mutex* lock,
                                                      const std::string& path, OnClient on_client,
                                                      AcceptFn accept = nullptr);
  ~HostListener();
  HostListener(const HostListener&) = delete;
  HostListener& operator=(const HostListener&) = delete;

  bool paused() const { return paused_; }
  int fd() const { return socket_.get(); }

 private:
  HostListener(EventLoop* loop, std::mutex* lock, std::string path, OnClient on_client,
               AcceptFn accept)
      : loop_(loop),
        lock_(lock),
        path_(std::move(path)),
        on_client_(std::move(on_client)),
        accept_(std::move(accept)) {}
  Result<void> Start();
  // A loop callback running `method` under the lock, if the listener lives.
  EventLoop::Callback Locked(void (HostListener::*method)());
  void AcceptAll();
  void Pause(int error);
  void Resume();

  EventLoop* loop_;
  std::mutex* lock_;
  std::string path_;
  OnClient on_client_;
  AcceptFn accept_;
  UniqueFd socket_;
  UniqueFd timer_;
  bool paused_ = false;
};

}  // namespace vk::virtio::vsock
