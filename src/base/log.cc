#include "base/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

namespace vk::log {
namespace {

std::atomic<Level> g_level{Level::kWarn};
std::atomic<int> g_sink{STDERR_FILENO};

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warning";
    case Level::kError: return "error";
  }
  return "?";
}

}  // namespace

void SetLevel(Level level) { g_level = level; }

void SetLevelFromEnvironment() {
  const char* value = std::getenv("VIRTKIT_LOG");
  if (value == nullptr) return;
  std::string_view name(value);
  if (name == "debug") SetLevel(Level::kDebug);
  if (name == "info") SetLevel(Level::kInfo);
  if (name == "warn") SetLevel(Level::kWarn);
  if (name == "error") SetLevel(Level::kError);
}

bool Enabled(Level level) { return level >= g_level.load(std::memory_order_relaxed); }

void SetSink(int fd) { g_sink = fd; }

void Write(Level level, std::string_view message) {
  // One write() per line so concurrent threads do not interleave mid-line.
  std::string line = "vk: ";
  line += LevelName(level);
  line += ": ";
  line += message;
  line += '\n';
  ssize_t ignored = ::write(g_sink.load(), line.data(), line.size());
  (void)ignored;
}

RateLimited::Decision RateLimited::Check(std::string_view key, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    std::string name = buckets_.size() < kMaxKeys ? std::string(key) : std::string();
    it = buckets_.try_emplace(std::move(name), Bucket{now, 0, 0}).first;
  }
  Bucket& bucket = it->second;
  Decision decision;
  if (now - bucket.window_start >= window_) {
    decision.suppressed = bucket.suppressed;
    bucket = Bucket{now, 0, 0};
  }
  if (bucket.printed < burst_) {
    ++bucket.printed;
    decision.print = true;
  } else {
    ++bucket.suppressed;
  }
  return decision;
}

RateLimited& GuestWarnings() {
  static RateLimited limiter;
  return limiter;
}

void WriteSuppressed(Level level, std::string_view key, uint64_t count) {
  Write(level, fmt::format("{}: {} similar messages suppressed", key, count));
}

}  // namespace vk::log
