// virtio-vsock (virtio 1.2 §5.10) in userspace, with Firecracker's host
// model: the guest (CID 3) reaches host port P through the unix socket
// "<uds_path>_<P>", and host programs reach guest port P by connecting to
// <uds_path> and writing "CONNECT <P>\n" (answered "OK <local port>\n").
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "virtio/device.h"

namespace vk::virtio {

struct VsockConfig {
  uint64_t guest_cid = 3;
  std::string uds_path;
  // Dedicated sockets: a host connect to `path` goes straight to guest
  // `port`, without the CONNECT/OK handshake (e.g. exec.sock -> 4444).
  std::vector<std::pair<std::string, uint32_t>> port_sockets;
};

Result<std::unique_ptr<VirtioDevice>> CreateVsockDevice(const VsockConfig& config);

}  // namespace vk::virtio
