// EventLoop: an epoll loop that calls a callback when an fd becomes ready.
// One thread runs it (the VMM's device thread). Stop(), Post(), Add(),
// Modify() and Remove() may be called from any thread: a virtio device's
// Activate and Reset run on the vCPU thread that wrote the status register
// and (un)register fds while the loop dispatches. A callback removed from
// another thread may still run once after Remove() returns (the loop had
// already taken it); such owners guard their state (HostListener's
// weak_ptr, the transport lock).
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vk {

class EventLoop {
 public:
  // Callback receives the epoll event mask (EPOLLIN, EPOLLOUT, EPOLLHUP...).
  using Callback = std::function<void(uint32_t events)>;

  static Result<std::unique_ptr<EventLoop>> Create();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  Result<void> Add(int fd, uint32_t events, Callback callback);
  Result<void> Modify(int fd, uint32_t events);
  // Safe to call from inside a callback, including the fd's own.
  void Remove(int fd);

  // Runs until Stop(). Returns an error only if epoll itself fails.
  Result<void> Run();
  // Waits at most timeout_ms (-1: forever) and dispatches what is ready.
  Result<void> RunOnce(int timeout_ms);
  void Stop();
  bool stopped() const { return stopped_; }
  // Runs `task` on the loop thread at its next iteration.
  void Post(std::function<void()> task);

 private:
  EventLoop(UniqueFd epoll, UniqueFd wake) : epoll_(std::move(epoll)), wake_(std::move(wake)) {}
  void Wake();
  void RunPosted();
  std::shared_ptr<Callback> Find(int fd);

  UniqueFd epoll_;
  UniqueFd wake_;  // eventfd that interrupts epoll_wait for Stop()/Post()
  // Taken by the loop only to look a callback up, never while calling it.
  std::mutex callbacks_mutex_;
  std::map<int, std::shared_ptr<Callback>> callbacks_;
  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
  std::atomic<bool> stopped_{false};
};

}  // namespace vk
