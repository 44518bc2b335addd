// Names that users give to things we keep on disk (VMs, fleets, jobs) and to
// guests (host names). One check each, applied before any path or command
// line is built from a name: a name like "../../.." must never reach the
// file system (`vk rm ../../..` once deleted a home directory).
#pragma once

#include <string_view>

#include "base/result.h"

namespace vk {

enum class NameKind { kVm, kFleet, kJob };

// [a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}: a single path component (never "." or
// "..", no '/'), safe in a unix socket path, a DNS label's length.
Result<void> CheckName(std::string_view name, NameKind kind);

// RFC 1123 host name: dot-separated labels of letters, digits and '-', each
// 1-63 bytes, not starting or ending with '-'; at most 253 bytes in all. It
// lands on the guest kernel's command line, so nothing else may pass.
Result<void> CheckHostname(std::string_view hostname);

}  // namespace vk
