// Terminal size changes (SIGWINCH) passed on to whoever watches for them.
// The process has one SIGWINCH handler (proto/terminal_session.cc, which
// also resizes an exec session's tty); a virtio-console port on a host
// terminal needs the same news on its device loop, so the handler calls
// NotifyTerminalResized() and each TerminalResizeWatch's eventfd becomes
// readable.
//
// Rules, because a signal handler may run on any thread at any moment:
// - NotifyTerminalResized() only loads atomics and write()s eventfds
//   (async-signal-safe).
// - A watch leaves the table before its eventfd is closed, and the close
//   waits until no handler is between loading that fd and writing it, so a
//   handler never writes an fd number that was closed and reused.
#pragma once

#include <cstddef>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vk {

// Bound: watches alive at once in one process. A VM has a handful of
// console devices; a slot is an eventfd and a table entry.
inline constexpr size_t kMaxTerminalResizeWatches = 16;

class TerminalResizeWatch {
 public:
  // Errors: no eventfd, or kMaxTerminalResizeWatches already alive.
  static Result<TerminalResizeWatch> Create();
  TerminalResizeWatch(TerminalResizeWatch&& other) noexcept;
  TerminalResizeWatch& operator=(TerminalResizeWatch&& other) noexcept;
  TerminalResizeWatch(const TerminalResizeWatch&) = delete;
  TerminalResizeWatch& operator=(const TerminalResizeWatch&) = delete;
  ~TerminalResizeWatch();

  // Readable (EPOLLIN) after a resize; Drain() before waiting again.
  int fd() const { return fd_.get(); }
  void Drain() const;

 private:
  TerminalResizeWatch(UniqueFd fd, size_t slot) : fd_(std::move(fd)), slot_(slot) {}
  void Release();

  UniqueFd fd_;
  size_t slot_ = kMaxTerminalResizeWatches;  // none
};

// From the SIGWINCH handler (or a test): wakes every watch.
void NotifyTerminalResized();

}  // namespace vk
