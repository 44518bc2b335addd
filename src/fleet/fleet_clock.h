// The clock the fleet's policies are written against. They never read it:
// callers pass time points in, so tests drive them with made-up ones.
#pragma once

#include <chrono>

namespace vk::fleet {

// Monotonic: restart delays and probe schedules must not jump with the
// wall clock.
using Clock = std::chrono::steady_clock;

}  // namespace vk::fleet
