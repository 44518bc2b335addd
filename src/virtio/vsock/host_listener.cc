#include "virtio/vsock/host_listener.h"

#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cstring>

#include "base/log.h"
#include "base/unix_socket.h"

namespace vk::virtio::vsock {
namespace {

constexpr int kBacklog = 64;

int AcceptNonBlocking(int listener) {
  return ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
}

}  // namespace

Result<std::shared_ptr<HostListener>> HostListener::Create(EventLoop* loop, std::mutex* lock,
                                                           const std::string& path,
                                                           OnClient on_client, AcceptFn accept) {
  if (!accept) accept = AcceptNonBlocking;
  std::shared_ptr<HostListener> listener(
      new HostListener(loop, lock, path, std::move(on_client), std::move(accept)));
  VK_TRY(listener->Start());
  return listener;
}

Result<void> HostListener::Start() {
  // Made now: when it is needed, no fd may be left to make it with.
  timer_ = UniqueFd(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!timer_) return Error::FromErrno("timerfd for " + path_);
  ::unlink(path_.c_str());  // a socket file left by an earlier VM of this name
  socket_ = VK_TRY(ListenUnix(path_, kBacklog, SocketBlocking::kNonBlocking));
  VK_TRY(loop_->Add(socket_.get(), EPOLLIN, Locked(&HostListener::AcceptAll)));
  return loop_->Add(timer_.get(), EPOLLIN, Locked(&HostListener::Resume));
}

EventLoop::Callback HostListener::Locked(void (HostListener::*method)()) {
  return [weak = weak_from_this(), lock = lock_, method](uint32_t) {
    std::lock_guard guard(*lock);
    if (auto self = weak.lock()) ((*self).*method)();
  };
}

HostListener::~HostListener() {
  if (socket_) {
    loop_->Remove(socket_.get());
    ::unlink(path_.c_str());
  }
  if (timer_) loop_->Remove(timer_.get());
}

void HostListener::AcceptAll() {
  while (!paused_) {
    UniqueFd client(accept_(socket_.get()));
    if (!client) {
      int error = errno;
      if (error == EAGAIN || error == EWOULDBLOCK) return;
      if (error == EINTR || error == ECONNABORTED) continue;
      return Pause(error);  // EMFILE, ENFILE, ENOBUFS, ENOMEM, or worse
    }
    if (auto owner = CheckPeerIsOwner(client.get()); !owner.ok()) {
      log::WarnLimited("virtio-vsock: refused", "virtio-vsock: {}: {}", path_,
                       owner.error().message());
      continue;  // closes it
    }
    on_client_(std::move(client));
  }
}

void HostListener::Pause(int error) {
  log::WarnLimited("virtio-vsock: accept", "virtio-vsock: accept on {}: {}; retrying in {} ms",
                   path_, std::strerror(error), kBackoff.count());
  itimerspec when{};
  when.it_value.tv_nsec = std::chrono::nanoseconds(kBackoff).count();
  if (::timerfd_settime(timer_.get(), 0, &when, nullptr) != 0) return;  // keep polling
  paused_ = true;
  auto modified = loop_->Modify(socket_.get(), 0);
  (void)modified;
}

void HostListener::Resume() {
  uint64_t expirations;
  ssize_t ignored = ::read(timer_.get(), &expirations, sizeof(expirations));
  (void)ignored;
  if (!paused_) return;
  paused_ = false;
  auto modified = loop_->Modify(socket_.get(), EPOLLIN);
  (void)modified;
}

}  // namespace vk::virtio::vsock
