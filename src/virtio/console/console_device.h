// virtio-console (virtio 1.2 §5.3), one port without MULTIPORT: the guest's
// hvc0. Output goes to a host fd; a host input fd, if given, feeds the guest.
#pragma once

#include <memory>

#include "virtio/device.h"

namespace vk::virtio {

struct ConsoleConfig {
  int output_fd = -1;  // not owned; -1 discards
  int input_fd = -1;   // not owned; -1: no input
};

std::unique_ptr<VirtioDevice> CreateConsoleDevice(const ConsoleConfig& config);

}  // namespace vk::virtio
