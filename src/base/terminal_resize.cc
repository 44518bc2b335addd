#include "base/terminal_resize.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <string>
#include <thread>

namespace vk {
namespace {

// Each slot holds a watch's eventfd plus one, or 0 for none (so the
// zero-initialised table is empty before any constructor runs). Lock-free so
// the handler can read them (std::atomic<int> is always lock-free on Linux).
std::array<std::atomic<int>, kMaxTerminalResizeWatches> g_slots{};
// Handlers between loading a slot and writing its fd.
std::atomic<int> g_notifying{0};

}  // namespace

Result<TerminalResizeWatch> TerminalResizeWatch::Create() {
  UniqueFd fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!fd) return Error::FromErrno("eventfd for terminal resizes");
  for (size_t slot = 0; slot < g_slots.size(); ++slot) {
    int free = 0;
    if (g_slots[slot].compare_exchange_strong(free, fd.get() + 1))
      return TerminalResizeWatch(std::move(fd), slot);
  }
  return Error("more than " + std::to_string(kMaxTerminalResizeWatches) +
               " terminal resize watches in one process");
}

TerminalResizeWatch::TerminalResizeWatch(TerminalResizeWatch&& other) noexcept
    : fd_(std::move(other.fd_)), slot_(other.slot_) {
  other.slot_ = kMaxTerminalResizeWatches;
}

TerminalResizeWatch& TerminalResizeWatch::operator=(TerminalResizeWatch&& other) noexcept {
  if (this == &other) return *this;
  Release();
  fd_ = std::move(other.fd_);
  slot_ = other.slot_;
  other.slot_ = kMaxTerminalResizeWatches;
  return *this;
}

TerminalResizeWatch::~TerminalResizeWatch() { Release(); }

void TerminalResizeWatch::Release() {
  if (slot_ >= g_slots.size()) return;
  g_slots[slot_].store(0);
  slot_ = kMaxTerminalResizeWatches;
  // A handler interrupting this very thread finishes before we get here, so
  // this waits only for handlers on other threads: a few write()s.
  while (g_notifying.load() != 0) std::this_thread::yield();
  fd_.Reset();
}

void TerminalResizeWatch::Drain() const {
  uint64_t count;
  (void)!::read(fd_.get(), &count, sizeof(count));
}

void NotifyTerminalResized() {
  const int saved_errno = errno;  // a handler must not change the interrupted code's errno
  g_notifying.fetch_add(1);
  for (const std::atomic<int>& slot : g_slots) {
    const int fd = slot.load() - 1;
    if (fd < 0) continue;
    const uint64_t one = 1;
    (void)!::write(fd, &one, sizeof(one));
  }
  g_notifying.fetch_sub(1);
  errno = saved_errno;
}

}  // namespace vk
