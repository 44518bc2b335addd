#include "agent/mount_params.h"

#include <vector>

#include "base/strings.h"
#include "proto/str_format.h"

namespace vk::agent {

using proto::StrFormat;
namespace {

// The largest mode a tmpfs root takes (set-id bits, sticky, rwx).
constexpr uint32_t kMaxMode = 07777;

// Absolute, not "/", bounded, without "." or ".." components: the host
// writes mount points as plain paths, and a path that says where it goes
// is one the host can keep out of a layer.
bool IsGuestPath(std::string_view path) {
  if (path.size() < 2 || path.size() > kMaxMountPath || path[0] != '/') return false;
  for (const std::string& part : Split(path.substr(1), '/')) {
    if (part == "." || part == "..") return false;
  }
  return true;
}

// One "key=value" option of a vk.tmpfs word into `mount`; each key once.
Result<void> TmpfsOption(std::string_view option, TmpfsMount& mount) {
  const size_t equals = option.find('=');
  const std::string_view key = option.substr(0, equals);
  const std::string_view value =
      equals == std::string_view::npos ? std::string_view() : option.substr(equals + 1);
  if (key == "size" && !mount.size_bytes) {
    auto size = ParseUint(value);
    if (!size || *size == 0) return Error(StrFormat("size={} is not a byte count", value));
    mount.size_bytes = *size;
  } else if (key == "mode" && !mount.mode) {
    auto mode = ParseUint(value, 8);
    if (!mode || *mode > kMaxMode) return Error(StrFormat("mode={} is not an octal mode", value));
    mount.mode = static_cast<uint32_t>(*mode);
  } else {
    return Error(StrFormat("unknown or repeated option {}", option));
  }
  return Ok();
}

}  // namespace

Result<FsMount> ParseFsMount(std::string_view value) {
  std::vector<std::string> parts = Split(value, ':');
  bool valid = (parts.size() == 2 || (parts.size() == 3 && parts[2] == "ro")) &&
               !parts[0].empty() && IsGuestPath(parts[1]);
  if (!valid) return Error(StrFormat("vk.fs={} is not TAG:/PATH[:ro]", value));
  return FsMount{parts[0], parts[1], parts.size() == 3};
}

Result<TmpfsMount> ParseTmpfsMount(std::string_view value) {
  std::vector<std::string> parts = Split(value, ':');
  // A path and at most one size and one mode.
  if (parts.size() > 3 || !IsGuestPath(parts[0]))
    return Error(StrFormat("vk.tmpfs={} is not /PATH[:size=BYTES][:mode=OCTAL]", value));
  TmpfsMount mount{parts[0], {}, {}};
  for (size_t i = 1; i < parts.size(); ++i) {
    VK_TRY(TmpfsOption(parts[i], mount).Context(StrFormat("vk.tmpfs={}", value)));
  }
  return mount;
}

Result<BindMount> ParseBindMount(std::string_view value) {
  std::vector<std::string> parts = Split(value, ':');
  bool valid = (parts.size() == 2 || (parts.size() == 3 && parts[2] == "ro")) &&
               IsGuestPath(parts[0]) && IsGuestPath(parts[1]);
  if (!valid) return Error(StrFormat("vk.bind={} is not /SOURCE:/TARGET[:ro]", value));
  return BindMount{parts[0], parts[1], parts.size() == 3};
}

}  // namespace vk::agent
