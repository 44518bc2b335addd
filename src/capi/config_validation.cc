#include "capi/config_validation.h"

#include <cerrno>
#include <set>
#include <string>

#include "base/strings.h"

namespace vk::capi {
namespace {

Error Incoherent(std::string why) { return Error(std::move(why), EINVAL); }

Result<void> CheckOneRoot(const KrunConfig& config) {
  int roots = config.root_dir ? 1 : 0;
  roots += config.root_disk_remount ? 1 : 0;
  for (const FsShare& share : config.shares) roots += share.tag == kRootTag ? 1 : 0;
  if (roots == 0) {
    return Incoherent(
        "no root file system: call krun_set_root, krun_add_virtiofs with tag /dev/root or "
        "krun_set_root_disk_remount");
  }
  if (roots > 1) {
    return Incoherent(
        "more than one root file system (krun_set_root, a /dev/root share, "
        "krun_set_root_disk_remount): keep one");
  }
  return Ok();
}

Result<void> CheckShareTags(const KrunConfig& config) {
  std::set<std::string> tags;
  if (config.root_dir) tags.insert(kRootTag);
  for (const FsShare& share : config.shares) {
    if (!tags.insert(share.tag).second) {
      return Incoherent("two virtio-fs shares are tagged '" + share.tag + "'");
    }
  }
  return Ok();
}

// "/dev/vdb" or "/dev/vdb1" must name one of the krun_add_disk*() devices;
// other names (by-label links, ...) are the guest's to resolve.
Result<void> CheckRemountDevice(const KrunConfig& config) {
  if (!config.root_disk_remount) return Ok();
  const std::string& device = config.root_disk_remount->device;
  std::string_view prefix = "/dev/vd";
  if (!StartsWith(device, prefix) || device.size() == prefix.size()) return Ok();
  char letter = device[prefix.size()];
  if (letter < 'a' || letter > 'z') return Ok();
  if (static_cast<size_t>(letter - 'a') >= config.disks.size()) {
    return Incoherent("root device " + device + " is not one of the " +
                      std::to_string(config.disks.size()) + " krun_add_disk*() disks");
  }
  return Ok();
}

}  // namespace

Result<void> ValidateConfig(const KrunConfig& config) {
  VK_TRY(CheckOneRoot(config));
  VK_TRY(CheckShareTags(config));
  VK_TRY(CheckRemountDevice(config));
  return Ok();
}

}  // namespace vk::capi
