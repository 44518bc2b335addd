#include "runtime/mount_spec.h"

#include <vector>

#include "base/strings.h"

namespace vk {
namespace {

constexpr uint32_t kMaxMode = 07777;

Error Usage(std::string message) { return Error(ErrorKind::kUsage, std::move(message)); }

// One docker --tmpfs option into `tmpfs`.
Result<void> TmpfsOption(const std::string& option, GuestTmpfs& tmpfs) {
  if (option == "rw" || option == "nosuid" || option == "nodev") return Ok();
  if (option.rfind("size=", 0) == 0) {
    auto size = ParseSize(option.substr(5));
    if (!size.ok() || *size == 0) return Usage(option + ": give a size such as 64m or 1g");
    tmpfs.size_bytes = *size;
    return Ok();
  }
  if (option.rfind("mode=", 0) == 0) {
    auto mode = ParseUint(option.substr(5), 8);
    if (!mode || *mode > kMaxMode) return Usage(option + ": give an octal mode such as 1777");
    tmpfs.mode = static_cast<uint32_t>(*mode);
    return Ok();
  }
  return Usage("option " + option + " is not supported: use size=SIZE and mode=OCTAL");
}

}  // namespace

Result<void> CheckGuestMountPath(const std::string& path, const std::string& what) {
  bool valid = path.size() >= 2 && path.size() <= kMaxGuestMountPath && path[0] == '/' &&
               path.find_first_of(" \t\n,:") == std::string::npos;
  for (const std::string& part : Split(path, '/')) valid = valid && part != "." && part != "..";
  if (!valid)
    return Usage(what + " " + path +
                 ": the guest path must be absolute, without spaces, commas, colons, "
                 "\".\" or \"..\"");
  return Ok();
}

Result<GuestTmpfs> ParseTmpfsFlag(std::string_view text) {
  const size_t colon = text.find(':');
  GuestTmpfs tmpfs;
  tmpfs.guest_path = std::string(text.substr(0, colon));
  VK_TRY(CheckGuestMountPath(tmpfs.guest_path, "--tmpfs"));
  if (colon == std::string_view::npos) return tmpfs;
  for (const std::string& option : Split(text.substr(colon + 1), ','))
    VK_TRY_CTX(TmpfsOption(option, tmpfs), "--tmpfs " + std::string(text));
  return tmpfs;
}

Result<void> CheckGuestMounts(const LaunchOptions& options) {
  for (const GuestTmpfs& tmpfs : options.tmpfs) {
    VK_TRY(CheckGuestMountPath(tmpfs.guest_path, "tmpfs"));
    if (tmpfs.mode && *tmpfs.mode > kMaxMode)
      return Usage("tmpfs " + tmpfs.guest_path + ": bad mode");
    if (tmpfs.size_bytes && *tmpfs.size_bytes == 0)
      return Usage("tmpfs " + tmpfs.guest_path + ": a size of 0 bytes");
  }
  for (const GuestBind& bind : options.binds) {
    VK_TRY(CheckGuestMountPath(bind.source, "bind source"));
    VK_TRY(CheckGuestMountPath(bind.target, "bind target"));
  }
  return Ok();
}

}  // namespace vk
