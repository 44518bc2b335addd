#include "base/event_loop.h"

#include <sys/eventfd.h>

#include <cerrno>

namespace vk {

Result<std::unique_ptr<EventLoop>> EventLoop::Create() {
  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll) return Error::FromErrno("epoll_create1");
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake) return Error::FromErrno("eventfd");
  std::unique_ptr<EventLoop> loop(new EventLoop(std::move(epoll), std::move(wake)));
  int wake_fd = loop->wake_.get();
  EventLoop* self = loop.get();
  VK_TRY(loop->Add(wake_fd, EPOLLIN, [self, wake_fd](uint32_t) {
    uint64_t count;
    ssize_t ignored = ::read(wake_fd, &count, sizeof(count));
    (void)ignored;
    self->RunPosted();
  }));
  return loop;
}

Result<void> EventLoop::Add(int fd, uint32_t events, Callback callback) {
  // The callback is in place before epoll can report the fd: the loop thread
  // may see it ready the moment epoll_ctl returns.
  auto entry = std::make_shared<Callback>(std::move(callback));
  {
    std::lock_guard lock(callbacks_mutex_);
    if (!callbacks_.try_emplace(fd, std::move(entry)).second) {
      return Error::FromErrno("epoll_ctl add", EEXIST);  // the registered callback stays
    }
  }
  epoll_event event{};
  event.events = events;
  event.data.fd = fd;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
    Error error = Error::FromErrno("epoll_ctl add");
    std::lock_guard lock(callbacks_mutex_);
    callbacks_.erase(fd);
    return error;
  }
  return Ok();
}

Result<void> EventLoop::Modify(int fd, uint32_t events) {
  epoll_event event{};
  event.events = events;
  event.data.fd = fd;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &event) != 0) {
    return Error::FromErrno("epoll_ctl mod");
  }
  return Ok();
}

void EventLoop::Remove(int fd) {
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  std::shared_ptr<Callback> removed;  // destroyed unlocked: it may own what calls Remove
  std::lock_guard lock(callbacks_mutex_);
  auto it = callbacks_.find(fd);
  if (it == callbacks_.end()) return;
  removed = std::move(it->second);
  callbacks_.erase(it);
}

Result<void> EventLoop::RunOnce(int timeout_ms) {
  epoll_event events[64];
  int n = ::epoll_wait(epoll_.get(), events, 64, timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return Ok();
    return Error::FromErrno("epoll_wait");
  }
  for (int i = 0; i < n; ++i) {
    std::shared_ptr<Callback> callback = Find(events[i].data.fd);  // survives self-removal
    if (callback) (*callback)(events[i].events);  // else removed since epoll_wait returned
  }
  return Ok();
}

std::shared_ptr<EventLoop::Callback> EventLoop::Find(int fd) {
  std::lock_guard lock(callbacks_mutex_);
  auto it = callbacks_.find(fd);
  return it == callbacks_.end() ? nullptr : it->second;
}

Result<void> EventLoop::Run() {
  while (!stopped_) VK_TRY(RunOnce(-1));
  return Ok();
}

void EventLoop::Stop() {
  stopped_ = true;
  Wake();
}

void EventLoop::Post(std::function<void()> task) {
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(task));
  }
  Wake();
}

void EventLoop::Wake() {
  uint64_t one = 1;
  ssize_t ignored = ::write(wake_.get(), &one, sizeof(one));
  (void)ignored;
}

void EventLoop::RunPosted() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(posted_mutex_);
    tasks.swap(posted_);
  }
  for (auto& task : tasks) task();
}

}  // namespace vk
