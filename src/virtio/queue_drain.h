// The loop every request/response device runs on a notification: pop each
// available chain, handle it, return it to the used ring, and interrupt the
// driver once at the end if it asked for that (virtio 1.2 §2.7.7, §2.7.10).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include "base/log.h"
#include "virtio/device.h"

namespace vk::virtio {

// `handle(const DescriptorChain&)` returns the bytes it wrote into the chain.
// Malformed chains were already given back by Queue::Pop(); they are logged
// (rate-limited per device). Pops only while `more()` holds: a device that
// holds chains back (output its host side cannot take yet, messages
// waiting for the driver's buffers) says when to stop.
template <typename More, typename Handle>
void DrainQueueWhile(const DeviceContext& context, size_t index, std::string_view device,
                     More&& more, Handle&& handle) {
  Queue& queue = context.queues[index];
  const GuestMemory& memory = *context.memory;
  bool pushed = false;
  while (more()) {
    auto popped = queue.Pop(memory);
    if (!popped.ok()) {
      // guest-triggered, as often as the driver likes: rate-limited.
      log::WarnLimited(device, "{}: {}", device, popped.error().message());
      pushed = true;
      continue;
    }
    if (!popped->has_value()) break;
    DescriptorChain chain = std::move(**popped);
    uint32_t written = handle(static_cast<const DescriptorChain&>(chain));
    auto returned = queue.Push(memory, std::move(chain), written);
    (void)returned;  // the used ring was validated on activation
    pushed = true;
  }
  if (pushed && queue.NeedsInterrupt(memory)) {
    context.interrupt->Trigger(Interrupt::Reason::kUsedBuffer);
  }
}

template <typename Handle>
void DrainQueue(const DeviceContext& context, size_t index, std::string_view device,
                Handle&& handle) {
  DrainQueueWhile(
      context, index, device, [] { return true; }, std::forward<Handle>(handle));
}

}  // namespace vk::virtio
