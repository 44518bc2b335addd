#include "lib/errors.h"

namespace virtkit {

std::string_view ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInternal: return "internal";
    case ErrorKind::kUsage: return "usage";
    case ErrorKind::kNotFound: return "not-found";
    case ErrorKind::kConflict: return "conflict";
    case ErrorKind::kNoKvm: return "no-kvm";
    case ErrorKind::kDisk: return "disk";
    case ErrorKind::kImage: return "image";
    case ErrorKind::kNetwork: return "network";
    case ErrorKind::kGuestPanic: return "guest-panic";
    case ErrorKind::kTimeout: return "timeout";
    case ErrorKind::kNoExitStatus: return "no-exit-status";
    case ErrorKind::kPreflight: return "preflight";
    case ErrorKind::kHook: return "hook";
  }
  return "internal";
}

Error Error::Context(std::string_view outer) const {
  if (outer.empty()) return *this;
  std::string message(outer);
  if (!message_.empty()) message += ": " + message_;
  return Error(kind_, std::move(message));
}

namespace internal {

ErrorKind FromVkKind(vk::ErrorKind kind) {
  // The runtime's kinds are the library's without kHook; names are shared.
  return KindFromName(vk::ErrorKindName(kind));
}

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
