#include "virtio/vsock/vsock_event.h"

#include "base/log.h"

namespace vk::virtio::vsock {

bool SendEvent(const GuestMemory& memory, Queue& queue, Interrupt& interrupt, uint32_t id) {
  // Bounded: a malformed chain is consumed (returned empty) by Pop, so each
  // round either ends or moves through the ring.
  for (uint32_t attempts = 0; attempts <= queue.size(); ++attempts) {
    auto popped = queue.Pop(memory);
    if (!popped.ok()) {
      log::Debug("virtio-vsock: event queue: {}", popped.error().message());
      continue;
    }
    if (!popped->has_value()) return false;
    DescriptorChain chain = std::move(**popped);
    ChainWriter writer(memory, chain);
    // guest-controlled: a buffer too small for the event goes back empty
    // and the next one is tried.
    uint32_t written = writer.Write(id).ok() ? sizeof(id) : 0;
    auto pushed = queue.Push(memory, std::move(chain), written);
    (void)pushed;
    if (queue.NeedsInterrupt(memory)) interrupt.Trigger(Interrupt::Reason::kUsedBuffer);
    if (written != 0) return true;
  }
  return false;
}

}  // namespace vk::virtio::vsock
