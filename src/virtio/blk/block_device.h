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

}  // namespace vk::virtio
