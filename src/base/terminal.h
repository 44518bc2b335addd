// Raw terminal mode for interactive sessions, restored on every exit path
// (destructor, and the atexit/signal paths that end the process).
#pragma once

#include <termios.h>

#include <cstdint>
#include <optional>
#include <utility>

namespace vk {

class RawTerminal {
 public:
  // Switches `fd` to raw mode if it is a terminal.
  explicit RawTerminal(int fd);
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  int fd_;
  std::optional<termios> saved_;
};

// Rows and columns of the terminal on `fd`, if it is one.
std::optional<std::pair<uint16_t, uint16_t>> TerminalSize(int fd);

}  // namespace vk
