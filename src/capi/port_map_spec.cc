#include "capi/port_map_spec.h"

#include <set>

#include "base/strings.h"

namespace vk::capi {
namespace {

Error Malformed(std::string_view text, std::string_view why) {
  return Error("port mapping '" + std::string(text) + "': " + std::string(why) +
                   " (want HOST_PORT:GUEST_PORT, e.g. 8080:80)",
               EINVAL);
}

}  // namespace

Result<PortMapping> ParsePortMapping(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return Malformed(text, "no ':'");
  auto host = ParseUint(text.substr(0, colon));
  auto guest = ParseUint(text.substr(colon + 1));
  if (!host || !guest) return Malformed(text, "not two decimal ports");
  if (*host > UINT16_MAX || *guest > UINT16_MAX) return Malformed(text, "port above 65535");
  return PortMapping{static_cast<uint16_t>(*host), static_cast<uint16_t>(*guest)};
}

Result<std::vector<PortMapping>> ParsePortMap(const std::vector<std::string>& entries) {
  std::vector<PortMapping> map;
  std::set<uint16_t> hosts;
  std::set<uint16_t> guests;
  for (const std::string& entry : entries) {
    PortMapping mapping = VK_TRY(ParsePortMapping(entry));
    if (!hosts.insert(mapping.host).second) return Malformed(entry, "host port listed twice");
    if (!guests.insert(mapping.guest).second) return Malformed(entry, "guest port listed twice");
    map.push_back(mapping);
  }
  return map;
}

}  // namespace vk::capi
