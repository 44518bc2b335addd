#include "base/terminal.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>

namespace vk {
namespace {

// Restored at exit() too, should a code path leave without unwinding.
int g_fd = -1;
termios g_saved;

void RestoreAtExit() {
  if (g_fd >= 0) ::tcsetattr(g_fd, TCSAFLUSH, &g_saved);
}

}  // namespace

RawTerminal::RawTerminal(int fd) : fd_(fd) {
  termios mode;
  if (!::isatty(fd) || ::tcgetattr(fd, &mode) != 0) return;
  saved_ = mode;
  g_fd = fd;
  g_saved = mode;
  static bool registered = (std::atexit(RestoreAtExit), true);
  (void)registered;
  ::cfmakeraw(&mode);
  ::tcsetattr(fd, TCSAFLUSH, &mode);
}

RawTerminal::~RawTerminal() {
  if (saved_) ::tcsetattr(fd_, TCSAFLUSH, &*saved_);
  g_fd = -1;
}

std::optional<std::pair<uint16_t, uint16_t>> TerminalSize(int fd) {
  winsize size{};
  if (::ioctl(fd, TIOCGWINSZ, &size) != 0 || size.ws_row == 0) return std::nullopt;
  return std::make_pair(size.ws_row, size.ws_col);
}

}  // namespace vk
