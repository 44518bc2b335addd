// virtio-rng (virtio 1.2 §5.4): entropy for the guest from the host's getrandom().
#pragma once

#include <memory>

#include "virtio/device.h"

namespace vk::virtio {

std::unique_ptr<VirtioDevice> CreateRngDevice();

}  // namespace vk::virtio
