// compose `ports:` entries. The short syntax is docker's -p:
//   "3000", "3000-3005", "8080:80", "9090-9091:8080-8081", "127.0.0.1:8001:8001",
//   "127.0.0.1::5000", "[::1]:6001:6001", "6060:6060/udp"
// The long syntax's fields (target, published, host_ip, protocol) are checked
// by the same MakePortMapping.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "fleet/fleet_spec.h"

namespace vk::fleet {

// kUsage errors name the entry and what is wrong with it.
Result<PortMapping> ParsePortMapping(std::string_view text);

// `published` may be empty (a host port is picked at start) or a range of
// the target's length; `protocol` empty means tcp.
Result<PortMapping> MakePortMapping(std::string_view target, std::string_view published,
                                    std::string_view host_ip, std::string_view protocol);

// "127.0.0.1:8080-8081:80-81/udp": the short syntax again.
std::string PortMappingText(const PortMapping& port);

}  // namespace vk::fleet
