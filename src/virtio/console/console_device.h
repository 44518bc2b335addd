// virtio-console (virtio 1.2 §5.3), one port without MULTIPORT: the guest's
// hvc0. Output goes to a host fd; a host input fd, if given, feeds the guest.
#pragma once

#include <memory>

#include "base/capped_write.h"
#include "virtio/device.h"

namespace vk::virtio {

struct ConsoleConfig {
  int output_fd = -1;  // not owned; -1 discards
  int input_fd = -1;   // not owned; -1: no input
  // A regular output file grows to at most this (base/capped_write.h); the
  // serial console writing to the same file shares the bound.
  uint64_t max_output_bytes = kDefaultConsoleLogLimit;
};

std::unique_ptr<VirtioDevice> CreateConsoleDevice(const ConsoleConfig& config);

}  // namespace vk::virtio
