// HEALTHCHECK intervals are Go durations: "30s", "1m30s", "1.5h", "250ms".
#pragma once

#include <chrono>
#include <string_view>

#include "base/result.h"

namespace vk::build {

// Go's time.ParseDuration: a sign, then number+unit pairs (ns, us, µs, ms, s,
// m, h); "0" alone is zero. kUsage error otherwise.
Result<std::chrono::nanoseconds> ParseGoDuration(std::string_view text);

}  // namespace vk::build
