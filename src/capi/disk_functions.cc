// Block devices: krun_set_root_disk, krun_set_data_disk, krun_add_disk*,
// krun_set_root_disk_remount.
#include <fmt/format.h>

#include <cerrno>

#include "base/strings.h"
#include "capi/c_args.h"
#include "capi/context_store.h"
#include "libkrun.h"

using vk::capi::DiskConfig;
using vk::capi::EditContext;
using vk::capi::KrunConfig;
using vk::capi::Refuse;

namespace {

// One virtio-blk device per MMIO slot; far more than any client asks for,
// and a bound on what a loop of calls can make us hold.
constexpr size_t kMaxDisks = 64;
// A block id only names the device in messages.
constexpr size_t kMaxBlockIdBytes = 256;
// Mount options and file system names for the agent's mount(2) data.
constexpr size_t kMaxMountTextBytes = 4096;

// The legacy setters: a second call replaces the image.
int32_t SetLegacyDisk(const char* function, uint32_t ctx_id, const char* disk_path,
                      std::optional<std::string> KrunConfig::*slot) {
  auto path = vk::capi::ReadPath(disk_path);
  if (!path) return Refuse(function, path.error());
  return EditContext(function, ctx_id, [&](KrunConfig& config) {
    config.*slot = std::move(*path);
    return 0;
  });
}

int32_t CheckFormat(const char* function, uint32_t disk_format) {
  if (disk_format == KRUN_DISK_FORMAT_RAW) return 0;
  if (disk_format == KRUN_DISK_FORMAT_QCOW2 || disk_format == KRUN_DISK_FORMAT_VMDK) {
    // Never guessed or followed: a qcow2/vmdk header can point at other host files.
    return Refuse(function, ENOTSUP, "only raw images (KRUN_DISK_FORMAT_RAW) are supported");
  }
  return Refuse(function, EINVAL, fmt::format("unknown disk format {}", disk_format));
}

int32_t AddDisk(const char* function, uint32_t ctx_id, const char* block_id, const char* disk_path,
                DiskConfig disk) {
  auto id = vk::capi::ReadString(block_id, kMaxBlockIdBytes);
  if (!id) return Refuse(function, id.error());
  auto path = vk::capi::ReadPath(disk_path);
  if (!path) return Refuse(function, path.error());
  disk.block_id = std::move(*id);
  disk.path = std::move(*path);
  return EditContext(function, ctx_id, [&](KrunConfig& config) {
    if (config.disks.size() >= kMaxDisks) {
      return Refuse(function, ENOSPC, fmt::format("more than {} disks", kMaxDisks));
    }
    config.disks.push_back(std::move(disk));
    return 0;
  });
}

}  // namespace

extern "C" int32_t krun_set_root_disk(uint32_t ctx_id, const char* disk_path) {
  return SetLegacyDisk("krun_set_root_disk", ctx_id, disk_path, &KrunConfig::root_disk);
}

extern "C" int32_t krun_set_data_disk(uint32_t ctx_id, const char* disk_path) {
  return SetLegacyDisk("krun_set_data_disk", ctx_id, disk_path, &KrunConfig::data_disk);
}

extern "C" int32_t krun_add_disk(uint32_t ctx_id, const char* block_id, const char* disk_path,
                                 bool read_only) {
  return AddDisk("krun_add_disk", ctx_id, block_id, disk_path, DiskConfig{.read_only = read_only});
}

extern "C" int32_t krun_add_disk2(uint32_t ctx_id, const char* block_id, const char* disk_path,
                                  uint32_t disk_format, bool read_only) {
  if (int32_t refused = CheckFormat("krun_add_disk2", disk_format)) return refused;
  return AddDisk("krun_add_disk2", ctx_id, block_id, disk_path, DiskConfig{.read_only = read_only});
}

extern "C" int32_t krun_add_disk3(uint32_t ctx_id, const char* block_id, const char* disk_path,
                                  uint32_t disk_format, bool read_only, bool direct_io,
                                  uint32_t sync_mode) {
  constexpr const char* kFunction = "krun_add_disk3";
  if (int32_t refused = CheckFormat(kFunction, disk_format)) return refused;
  if (sync_mode > KRUN_SYNC_FULL) {
    return Refuse(kFunction, EINVAL, fmt::format("unknown sync mode {}", sync_mode));
  }
  return AddDisk(kFunction, ctx_id, block_id, disk_path,
                 DiskConfig{.read_only = read_only,
                            .direct_io = direct_io,
                            .sync = static_cast<vk::capi::SyncMode>(sync_mode)});
}

extern "C" int32_t krun_set_root_disk_remount(uint32_t ctx_id, const char* device,
                                              const char* fstype, const char* options) {
  constexpr const char* kFunction = "krun_set_root_disk_remount";
  auto path = vk::capi::ReadPath(device);
  if (!path) return Refuse(kFunction, path.error());
  if (!vk::StartsWith(*path, "/dev/")) {
    return Refuse(kFunction, EINVAL, "device '" + *path + "' is not under /dev/");
  }
  vk::capi::RootDiskRemount remount{.device = std::move(*path)};
  if (fstype != nullptr) {
    auto type = vk::capi::ReadString(fstype, kMaxMountTextBytes);
    if (!type) return Refuse(kFunction, type.error());
    if (*type != "auto") remount.fstype = std::move(*type);
  }
  if (options != nullptr) {
    auto data = vk::capi::ReadString(options, kMaxMountTextBytes);
    if (!data) return Refuse(kFunction, data.error());
    remount.options = std::move(*data);
  }
  return EditContext(kFunction, ctx_id, [&](KrunConfig& config) {
    if (config.disks.empty()) return Refuse(kFunction, EINVAL, "no krun_add_disk*() disk yet");
    bool root_share = false;
    for (const auto& share : config.shares) root_share |= share.tag == vk::capi::kRootTag;
    if (config.root_dir || root_share || config.root_disk_remount) {
      return Refuse(kFunction, EINVAL, "a root file system is already set");
    }
    config.root_disk_remount = std::move(remount);
    return 0;
  });
}
