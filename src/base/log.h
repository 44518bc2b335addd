// Logging: one line per event, to stderr by default or to a file (vm.log).
// Levels are set once at start-up (VIRTKIT_LOG=debug|info|warn|error).
#pragma once

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
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

// Lines a guest (or another untrusted peer) can trigger at will, e.g. one
// per malformed descriptor chain, go through a rate limit so that it cannot
// fill the host's disk or drown other messages: per key, at most `burst`
// lines per `window`; further lines in that window are only counted, and the
// first line let through afterwards is preceded by one
// "<key>: N similar messages suppressed". Keys are fixed strings chosen by
// the caller, never guest data; past kMaxKeys distinct keys, all new keys
// share one bucket, so the table stays bounded whatever the callers do.
class RateLimited {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kMaxKeys = 256;

  explicit RateLimited(int burst = 10, Clock::duration window = std::chrono::seconds(10))
      : burst_(burst), window_(window) {}

  struct Decision {
    bool print = false;       // write this line
    uint64_t suppressed = 0;  // lines dropped before it (write the summary first)
  };
  // Counts one line for `key` at `now`. Thread-safe.
  Decision Check(std::string_view key, Clock::time_point now = Clock::now());

 private:
  struct Bucket {
    Clock::time_point window_start;
    int printed = 0;
    uint64_t suppressed = 0;
  };
  std::mutex mutex_;
  const int burst_;
  const Clock::duration window_;
  std::map<std::string, Bucket, std::less<>> buckets_;
};

// The process-wide limiter behind WarnLimited.
RateLimited& GuestWarnings();
// "<key>: <count> similar messages suppressed".
void WriteSuppressed(Level level, std::string_view key, uint64_t count);

// A warning the guest can cause: rate-limited per `key` (see RateLimited).
// The message is only formatted when it is written.
template <typename... Args>
void WarnLimited(std::string_view key, fmt::format_string<Args...> format, Args&&... args) {
  if (!Enabled(Level::kWarn)) return;
  RateLimited::Decision decision = GuestWarnings().Check(key);
  if (decision.suppressed != 0) WriteSuppressed(Level::kWarn, key, decision.suppressed);
  if (decision.print) Write(Level::kWarn, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace vk::log
