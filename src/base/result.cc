#include "base/result.h"

#include <cstring>

namespace vk {

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
