#include "fleet/fleet_spec.h"

namespace vk::fleet {

const ServiceSpec* FleetSpec::Find(std::string_view service) const {
  for (const ServiceSpec& s : services) {
    if (s.name == service) return &s;
  }
  return nullptr;
}

const ServiceSpec* FleetSpec::DevService() const {
  for (const ServiceSpec& s : services) {
    if (s.dev) return &s;
  }
  return nullptr;
}

}  // namespace vk::fleet
