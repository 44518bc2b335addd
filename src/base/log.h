// Logging: one line per event, to stderr by default or to a file (vm.log).
// Levels are set once at start-up (VIRTKIT_LOG=debug|info|warn|error).
#pragma once

#include <fmt/format.h>

#include <string_view>
#include <utility>

namespace vk::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void SetLevel(Level level);
// Reads VIRTKIT_LOG; unknown values keep the current level.
void SetLevelFromEnvironment();
bool Enabled(Level level);
// Log lines go to `fd` (not owned; must outlive logging). Default: stderr.
void SetSink(int fd);
void Write(Level level, std::string_view message);

template <typename... Args>
void Debug(fmt::format_string<Args...> format, Args&&... args) {
  if (Enabled(Level::kDebug))
    Write(Level::kDebug, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void Info(fmt::format_string<Args...> format, Args&&... args) {
  if (Enabled(Level::kInfo)) Write(Level::kInfo, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void Warn(fmt::format_string<Args...> format, Args&&... args) {
  if (Enabled(Level::kWarn)) Write(Level::kWarn, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void Error(fmt::format_string<Args...> format, Args&&... args) {
  if (Enabled(Level::kError))
    Write(Level::kError, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace vk::log
