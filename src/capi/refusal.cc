#include "capi/refusal.h"

#include <cerrno>

#include "base/log.h"

namespace vk::capi {

int32_t Refuse(std::string_view function, int err, std::string_view why) {
  log::Warn("{}: {}", function, why);
  return -err;
}

int32_t Refuse(std::string_view function, const Error& error) {
  int err = error.errno_value() > 0 ? error.errno_value() : EINVAL;
  return Refuse(function, err, error.message());
}

}  // namespace vk::capi
