// EXPOSE arguments: "80", "80/tcp", "53/udp", "8000-8010/sctp".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace vk::build {

struct PortSpec {
  uint16_t first = 0;
  uint16_t last = 0;             // == first unless a range was given
  std::string protocol = "tcp";  // tcp, udp or sctp, lower-cased
  bool operator==(const PortSpec&) const = default;
};

// kUsage error naming the bad spec and the accepted form.
Result<PortSpec> ParsePortSpec(std::string_view text);

}  // namespace vk::build
