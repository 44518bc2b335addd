// The library's log as libkrun's krun_set_log_level / krun_init_log set it
// up, mapped onto base/log: levels 0 (off) .. 5 (trace), a target fd, and
// the RUST_LOG / RUST_LOG_STYLE overrides libkrun's env_logger honours.
// Process-wide, not per context, as in libkrun.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "base/result.h"

namespace vk::capi {

inline constexpr uint32_t kLogOff = 0;
inline constexpr uint32_t kLogTrace = 5;
inline constexpr uint32_t kLogStyleNever = 2;
inline constexpr uint32_t kLogOptionNoEnv = 1;
inline constexpr int kLogTargetDefault = -1;

// "off", "error", "warn", "info", "debug", "trace" (any case) -> 0..5.
// RUST_LOG filters with module names or several directives are not
// understood (docs/libkrun.md: a bare level word only).
std::optional<uint32_t> ParseRustLogLevel(std::string_view word);
// "auto", "always", "never" -> KRUN_LOG_STYLE_*.
std::optional<uint32_t> ParseRustLogStyle(std::string_view word);

// krun_set_log_level: values above trace mean trace.
void SetKrunLogLevel(uint32_t level);

// krun_init_log's checks and effect (see libkrun.h); EINVAL on bad values.
Result<void> InitKrunLog(int target_fd, uint32_t level, uint32_t style, uint32_t options);

// The level now in force (0..5), for tests and the VM start.
uint32_t KrunLogLevel();

}  // namespace vk::capi
