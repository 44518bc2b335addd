// The library's errors from the runtime's: the same kinds (plus kHook) and
// the same message chain, so callers branch on Error::kind() alone.
#pragma once

#include <string_view>

#include "base/result.h"
#include "virtkit/virtkit.h"

namespace virtkit::internal {

ErrorKind FromVkKind(vk::ErrorKind kind);
Error FromVk(const vk::Error& error);
// A runtime result as the library's (context optional).
Result<void> FromVk(const vk::Result<void>& result, std::string_view context = {});
// The kind named by ErrorKindName ("no-kvm"), kInternal for unknown names.
ErrorKind KindFromName(std::string_view name);

}  // namespace virtkit::internal
