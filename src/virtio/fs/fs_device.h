// virtio-fs (virtio 1.2 §5.11): one host directory shared with the guest,
// served by the passthrough FUSE server in passthrough.h, with optional
// read-only virtual entries (virtual_entries.h) on top of it or alone.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "virtio/device.h"
#include "virtio/fs/virtual_entries.h"

namespace vk::virtio {

struct FsOptions {
  // Empty: no host directory, the share holds `virtual_entries` alone.
  std::string shared_dir;
  std::string tag;  // the guest mounts it with `mount -t virtiofs TAG DIR`
  bool read_only = false;
  uint32_t num_request_queues = 1;
  // Read-only in-memory files and directories over the share's root (see
  // passthrough.h). File data is not copied: it must outlive the device.
  std::vector<fs::VirtualEntry> virtual_entries;
};

Result<std::unique_ptr<VirtioDevice>> CreateFsDevice(const FsOptions& options);

}  // namespace vk::virtio
