// krun_set_port_map entries: "HOST_PORT:GUEST_PORT", decimal 0-65535.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vk::capi {

struct PortMapping {
  uint16_t host = 0;
  uint16_t guest = 0;
  bool operator==(const PortMapping&) const = default;
};

// One entry; anything but two decimal ports joined by one ':' is EINVAL.
Result<PortMapping> ParsePortMapping(std::string_view text);

// Every entry; a host port or a guest port listed twice is EINVAL (libkrun
// refuses both: one host listener per port, one forward per guest port).
Result<std::vector<PortMapping>> ParsePortMap(const std::vector<std::string>& entries);

}  // namespace vk::capi
