// EventLoop: an epoll loop that calls a callback when an fd becomes ready.
// One thread runs it (the VMM's device thread); Stop() and Post() may be
// called from any thread.
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

  UniqueFd epoll_;
  UniqueFd wake_;  // eventfd that interrupts epoll_wait for Stop()/Post()
  std::map<int, std::shared_ptr<Callback>> callbacks_;
  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
  std::atomic<bool> stopped_{false};
};

}  // namespace vk
