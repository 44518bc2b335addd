// A fleet's name: compose's `name:`, else the compose file's directory name
// made valid the way compose does it. It names the fleet's state directory
// and its VMs, so it must also pass base/names.h's check.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace vk::fleet {

// compose's NormalizeProjectName: lower-cased, characters other than
// [a-z0-9_-] dropped, leading '_' and '-' trimmed ("My App.v2" -> "myappv2").
std::string NormalizeFleetName(std::string_view name);

// An explicit name must already be normal: ^[a-z0-9][a-z0-9_-]*$ (compose
// refuses others rather than rewriting what the user chose), at most 63.
Result<void> CheckFleetName(std::string_view name);

}  // namespace vk::fleet
