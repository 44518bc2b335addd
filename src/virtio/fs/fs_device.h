// virtio-fs (virtio 1.2 §5.11): one host directory shared with the guest,
// served by the passthrough FUSE server in passthrough.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/result.h"
#include "virtio/device.h"

namespace vk::virtio {

struct FsOptions {
  std::string shared_dir;
  std::string tag;  // the guest mounts it with `mount -t virtiofs TAG DIR`
  bool read_only = false;
  uint32_t num_request_queues = 1;
};

Result<std::unique_ptr<VirtioDevice>> CreateFsDevice(const FsOptions& options);

}  // namespace vk::virtio
