#include "base/result.h"

#include <cstring>

namespace vk {

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
  }
  return "internal";
}

Error Error::FromErrno(std::string_view what, int err) {
  std::string message(what);
  message += ": ";
  message += std::strerror(err);
  return Error(std::move(message), err);
}

Error Error::WithContext(std::string_view outer) const& {
  Error copy = *this;
  return std::move(copy).WithContext(outer);
}

Error Error::WithContext(std::string_view outer) && {
  std::string message(outer);
  message += ": ";
  message += message_;
  message_ = std::move(message);
  return std::move(*this);
}

}  // namespace vk
