// How virtctl and `vk fleet ps` show units (proto/virtctl.h): one table
// and one status form, so the guest and the host print the same thing.
#pragma once

#include <string>
#include <vector>

#include "proto/virtctl.h"

namespace vk::proto {

// NAME VM STATE HEALTH ADDRESS RESTARTS PORTS, aligned; the dev VM's name
// ends in '*', an exited unit's state shows its code ("exited(1)"), empty
// cells are "-".
std::string FormatUnitTable(const std::vector<UnitInfo>& units);
// "key: value" lines.
std::string FormatUnitStatus(const UnitInfo& unit);

}  // namespace vk::proto
