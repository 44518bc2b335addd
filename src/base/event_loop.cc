#include "base/event_loop.h"

#include <sys/eventfd.h>

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
  epoll_event event{};
  event.events = events;
  event.data.fd = fd;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
    return Error::FromErrno("epoll_ctl add");
  }
  callbacks_[fd] = std::make_shared<Callback>(std::move(callback));
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
  callbacks_.erase(fd);
}

Result<void> EventLoop::RunOnce(int timeout_ms) {
  epoll_event events[64];
  int n = ::epoll_wait(epoll_.get(), events, 64, timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return Ok();
    return Error::FromErrno("epoll_wait");
  }
  for (int i = 0; i < n; ++i) {
    auto it = callbacks_.find(events[i].data.fd);
    if (it == callbacks_.end()) continue;             // removed by an earlier callback
    std::shared_ptr<Callback> callback = it->second;  // survives self-removal
    (*callback)(events[i].events);
  }
  return Ok();
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
