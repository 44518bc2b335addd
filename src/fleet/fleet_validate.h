// Checks across services, shared by both ways of writing a fleet: every
// service has an image or a build, depends_on names services that exist
// and form no cycle, at most one dev VM, no host port published twice.
// Errors name the file and line when the fleet came from a file.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "fleet/fleet_spec.h"

namespace vk::fleet {

// Sorts the services by name, checks them, then applies compose profiles:
// a service with `profiles:` is kept only when one of them is in
// `active_profiles` ("*" activates all). A required dependency on a service
// left out is an error naming its profile; an optional one is dropped.
// Names are checked over every service, the dev VM count over those kept.
Result<void> ValidateFleet(FleetSpec& fleet, const std::vector<std::string>& active_profiles);

}  // namespace vk::fleet
