// How a krun_* function says no: one log line naming the function and the
// reason, and the negative errno libkrun's callers test for.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/result.h"

namespace vk::capi {

// Logs "FUNCTION: why" as a warning and returns -err.
int32_t Refuse(std::string_view function, int err, std::string_view why);

// The same for an Error; its errno, or EINVAL when it carries none.
int32_t Refuse(std::string_view function, const Error& error);

}  // namespace vk::capi
