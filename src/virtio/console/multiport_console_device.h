// virtio-console with VIRTIO_CONSOLE_F_MULTIPORT (virtio 1.2 §5.3): several
// named ports, each a byte stream between a host fd pair and the guest's
// /dev/vportNpM (or an hvc console). Ports are announced and opened through
// the control queues (§5.3.6.2); the driver this is written against is
// Linux drivers/char/virtio_console.c.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/capped_write.h"
#include "base/result.h"
#include "virtio/device.h"

namespace vk::virtio {

namespace vcon {

// Feature bits, virtio 1.2 §5.3.3. Linux applies a console port's size
// (config space, or RESIZE with MULTIPORT) only when F_SIZE was offered
// (resize_console in drivers/char/virtio_console.c).
inline constexpr uint64_t kFeatureSize = 1ull << 0;
inline constexpr uint64_t kFeatureMultiport = 1ull << 1;

// struct virtio_console_control (virtio 1.2 §5.3.6.2), little-endian.
struct ControlHeader {
  uint32_t id;
  uint16_t event;
  uint16_t value;
};
static_assert(sizeof(ControlHeader) == 8);

// Control events (virtio 1.2 §5.3.6.2). Linux names DEVICE_ADD/REMOVE
// VIRTIO_CONSOLE_PORT_ADD/REMOVE.
enum ControlEvent : uint16_t {
  kDeviceReady = 0,
  kDeviceAdd = 1,
  kDeviceRemove = 2,
  kPortReady = 3,
  kConsolePort = 4,
  kResize = 5,
  kPortOpen = 6,
  kPortName = 7,
};

// Queue layout with MULTIPORT (virtio 1.2 §5.3.2): port 0 rx/tx, the
// control pair, then rx/tx of ports 1, 2, ...
inline constexpr size_t kControlReceiveQueue = 2;   // device -> driver
inline constexpr size_t kControlTransmitQueue = 3;  // driver -> device
inline constexpr size_t ReceiveQueue(uint32_t port) { return port == 0 ? 0 : 2 + 2 * port; }
inline constexpr size_t TransmitQueue(uint32_t port) { return port == 0 ? 1 : 3 + 2 * port; }

}  // namespace vcon

struct ConsolePortSpec {
  // Sent with VIRTIO_CONSOLE_PORT_NAME if non-empty (the guest shows it as
  // /sys/class/virtio-ports/vportNpM/name; udev links /dev/virtio-ports/NAME).
  std::string name;
  int input_fd = -1;   // host -> guest bytes; not owned; -1: no input
  int output_fd = -1;  // guest -> host bytes; not owned; -1: discarded
  // Announce VIRTIO_CONSOLE_CONSOLE_PORT (the guest makes it an hvc). If its
  // input or output is a terminal, the hvc follows that terminal's size
  // (F_SIZE, RESIZE on SIGWINCH: base/terminal_resize.h).
  bool console = false;
  // A regular output file grows to at most this (base/capped_write.h).
  uint64_t max_output_bytes = kDefaultConsoleLogLimit;
};

struct MultiportConsoleConfig {
  std::vector<ConsolePortSpec> ports;  // port id = index
};

// Abuse bound: ports of one device. Each port costs the guest two virtqueues
// it sets up at probe time, with Linux filling every port's receive queue
// with page-sized buffers (fill_queue in add_port), and the host one watched
// fd. 31 is QEMU virtio-serial's long-standing default max_ports (64
// virtqueues), so a layout that works there works here; ports are for a
// handful of named channels, per-connection traffic belongs on vsock.
inline constexpr uint32_t kMaxConsolePorts = 31;
// Abuse bound: bytes of a port name. A PORT_NAME message (8-byte header +
// name) must fit one control receive buffer, which Linux posts PAGE_SIZE
// large; 255 matches NAME_MAX, as udev turns the name into a file name.
inline constexpr size_t kMaxConsolePortNameBytes = 255;

// Errors: no ports, more than kMaxConsolePorts, a name over
// kMaxConsolePortNameBytes or holding a NUL, two ports with the same name,
// or one input fd given to two ports (the loop watches an fd once).
Result<std::unique_ptr<VirtioDevice>> CreateMultiportConsoleDevice(MultiportConsoleConfig config);

}  // namespace vk::virtio
