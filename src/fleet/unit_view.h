// What the fleet controller knows of one service's VM, as the dependency and
// health policies see it.
#pragma once

#include <optional>

namespace vk::fleet {

enum class UnitPhase { kNotStarted, kStarting, kRunning, kExited };

// kNone: the service has no health check (none in the image, or test NONE).
enum class UnitHealth { kNone, kStarting, kHealthy, kUnhealthy };

struct UnitView {
  UnitPhase phase = UnitPhase::kNotStarted;
  UnitHealth health = UnitHealth::kNone;
  std::optional<int> exit_code;  // kExited: the command's code; nullopt if the VM died without one
};

}  // namespace vk::fleet
