// virtio-blk (virtio 1.2 §5.2): a raw disk image file as a guest block device.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "virtio/device.h"

namespace vk::virtio {

struct BlockConfig {
  std::string path;
  bool read_only = false;
  std::string id;  // serial number the guest reads with GET_ID (<= 20 bytes)
};

// Opens and locks the image (shared lock read-only, exclusive read-write), so
// two VMs never write one image.
Result<std::unique_ptr<VirtioDevice>> CreateBlockDevice(const BlockConfig& config);

// A drive with no disk in it yet: capacity 0, every request fails. Warm
// templates (docs/snapshots.md) boot with these so the guest kernel reads
// nothing of a disk at probe time; a VM restored from the template gets its
// real disk in the same slot: the restored device (made by CreateBlockDevice
// with the same read_only) accepts an empty slot's saved state and tells the
// guest its capacity changed (a config-change interrupt, virtio 1.2 §5.2.4).
std::unique_ptr<VirtioDevice> CreateEmptyBlockSlot(bool read_only);

}  // namespace vk::virtio
