#include "lib/errors.h"

namespace virtkit {

// The library's kinds are the runtime's (base/result.h), in the same order,
// plus kHook: one table of names, and conversion is a cast.
static_assert(static_cast<int>(ErrorKind::kInternal) == static_cast<int>(vk::ErrorKind::kInternal));
static_assert(static_cast<int>(ErrorKind::kNoKvm) == static_cast<int>(vk::ErrorKind::kNoKvm));
static_assert(static_cast<int>(ErrorKind::kPreflight) ==
              static_cast<int>(vk::ErrorKind::kPreflight));
static_assert(static_cast<int>(ErrorKind::kHook) ==
              static_cast<int>(vk::ErrorKind::kPreflight) + 1);

std::string_view ErrorKindName(ErrorKind kind) {
  if (kind == ErrorKind::kHook) return "hook";
  return vk::ErrorKindName(static_cast<vk::ErrorKind>(kind));
}

Error Error::Context(std::string_view outer) const {
  if (outer.empty()) return *this;
  std::string message(outer);
  if (!message_.empty()) message += ": " + message_;
  return Error(kind_, std::move(message));
}

namespace internal {

ErrorKind FromVkKind(vk::ErrorKind kind) { return static_cast<ErrorKind>(kind); }

Error FromVk(const vk::Error& error) { return Error(FromVkKind(error.kind()), error.message()); }

Result<void> FromVk(const vk::Result<void>& result, std::string_view context) {
  if (result.ok()) return Ok();
  return FromVk(result.error()).Context(context);
}

ErrorKind KindFromName(std::string_view name) {
  for (int k = 0; k <= static_cast<int>(ErrorKind::kHook); ++k) {
    auto kind = static_cast<ErrorKind>(k);
    if (ErrorKindName(kind) == name) return kind;
  }
  return ErrorKind::kInternal;
}

}  // namespace internal
}  // namespace virtkit
