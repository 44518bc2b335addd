#include "capi/log_settings.h"

#include <fcntl.h>
#include <strings.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <mutex>
#include <string>

#include "base/log.h"

namespace vk::capi {
namespace {

constexpr std::array<std::string_view, 6> kLevelWords = {"off",  "error", "warn",
                                                         "info", "debug", "trace"};
constexpr std::array<std::string_view, 3> kStyleWords = {"auto", "always", "never"};

std::optional<uint32_t> IndexOf(std::string_view word, const auto& words) {
  for (size_t i = 0; i < words.size(); ++i) {
    if (word.size() == words[i].size() &&
        strncasecmp(word.data(), words[i].data(), word.size()) == 0) {
      return static_cast<uint32_t>(i);
    }
  }
  return std::nullopt;
}

// base/log has no "off": an off log writes to /dev/null instead.
struct LogState {
  std::mutex mutex;
  uint32_t level = 2;  // base/log's default, warnings
  int target = STDERR_FILENO;
  int dev_null = -1;
};

LogState& State() {
  static LogState* state = new LogState();  // lives as long as log writers
  return *state;
}

void Apply(LogState& state) {
  if (state.level == kLogOff && state.dev_null < 0) {
    state.dev_null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  }
  log::SetSink(state.level == kLogOff && state.dev_null >= 0 ? state.dev_null : state.target);
  log::Level level = log::Level::kDebug;  // debug and trace
  if (state.level <= 1) level = log::Level::kError;
  if (state.level == 2) level = log::Level::kWarn;
  if (state.level == 3) level = log::Level::kInfo;
  log::SetLevel(level);
}

std::optional<uint32_t> EnvironmentWord(const char* name, const auto& words) {
  const char* value = std::getenv(name);
  if (value == nullptr) return std::nullopt;
  return IndexOf(value, words);
}

}  // namespace

std::optional<uint32_t> ParseRustLogLevel(std::string_view word) {
  return IndexOf(word, kLevelWords);
}

std::optional<uint32_t> ParseRustLogStyle(std::string_view word) {
  return IndexOf(word, kStyleWords);
}

void SetKrunLogLevel(uint32_t level) {
  LogState& state = State();
  std::lock_guard lock(state.mutex);
  state.level = level > kLogTrace ? kLogTrace : level;
  Apply(state);
}

Result<void> InitKrunLog(int target_fd, uint32_t level, uint32_t style, uint32_t options) {
  if (target_fd == 0 || target_fd < kLogTargetDefault) {
    return Error("target_fd " + std::to_string(target_fd) + " is not a log target", EINVAL);
  }
  if (style > kLogStyleNever) return Error("unknown style " + std::to_string(style), EINVAL);
  if ((options & ~kLogOptionNoEnv) != 0) {
    return Error("unknown option bits " + std::to_string(options), EINVAL);
  }
  if ((options & kLogOptionNoEnv) == 0) {
    // RUST_LOG_STYLE only picks colours, and we write none.
    level = EnvironmentWord("RUST_LOG", kLevelWords).value_or(level);
  }
  LogState& state = State();
  std::lock_guard lock(state.mutex);
  // An fd other than 1 and 2 is the library's from now on; it is never
  // closed, since a thread may be writing a line to it right now.
  state.target = target_fd == kLogTargetDefault ? STDERR_FILENO : target_fd;
  state.level = level > kLogTrace ? kLogTrace : level;
  Apply(state);
  return Ok();
}

uint32_t KrunLogLevel() {
  LogState& state = State();
  std::lock_guard lock(state.mutex);
  return state.level;
}

}  // namespace vk::capi
