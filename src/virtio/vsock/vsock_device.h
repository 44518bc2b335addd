// virtio-vsock (virtio 1.2 §5.10) in userspace, with Firecracker's host
// model: the guest (CID 3) reaches host port P through the unix socket
// "<uds_path>_<P>", and host programs reach guest port P by connecting to
// <uds_path> and writing "CONNECT <P>\n" (answered "OK <local port>\n").
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/result.h"
#include "virtio/device.h"

namespace vk::virtio {

struct VsockConfig {
  uint64_t guest_cid = 3;
  std::string uds_path;
};

Result<std::unique_ptr<VirtioDevice>> CreateVsockDevice(const VsockConfig& config);

}  // namespace vk::virtio
