// virtio-vsock event queue (virtio 1.2 §5.10.6.7): the device tells the
// driver about transport-wide changes through buffers the driver posts on
// queue 2, each a struct virtio_vsock_event { le32 id; }.
#pragma once

#include <cstdint>

#include "base/guest_memory.h"
#include "virtio/device.h"

namespace vk::virtio::vsock {

inline constexpr size_t kEventQueue = 2;
// VIRTIO_VSOCK_EVENT_TRANSPORT_RESET: every connection is gone (the device
// was migrated or restored); the driver closes its connected sockets and
// re-reads guest_cid from the configuration space. Listening sockets stay.
inline constexpr uint32_t kEventTransportReset = 0;

// Puts one event into the next event buffer the driver posted; false when
// it has none yet (the caller retries when the driver notifies the queue).
bool SendEvent(const GuestMemory& memory, Queue& queue, Interrupt& interrupt, uint32_t id);

}  // namespace vk::virtio::vsock
