// Fuzzes descriptor-chain parsing: the input becomes the guest's descriptor
// table, avail ring and buffer contents; Pop/read/write/Push must never touch
// memory outside the fake guest RAM nor crash, whatever the guest wrote.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "virtio/queue.h"
#include "virtio/testing/fake_virtqueue.h"

using vk::virtio::ChainReader;
using vk::virtio::ChainWriter;
using vk::virtio::Queue;
using vk::virtio::testing::FakeGuest;
using vk::virtio::testing::FakeVirtqueue;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  FakeGuest storage(1 << 16);
  FakeGuest* guest = &storage;
  Queue queue(16);
  FakeVirtqueue vq(*guest, queue, 16, /*event_idx=*/data[0] & 1);
  queue.set_indirect(data[0] & 2);
  // Overwrite the descriptor table and avail ring with fuzz bytes.
  size_t table_bytes = std::min<size_t>(size - 2, 16 * 16 + 6 + 2 * 16);
  std::memcpy(guest->host(vq.descriptor_table()), data + 2, table_bytes);
  uint16_t published = data[1] % 20;
  for (uint16_t i = 0; i < published; ++i)
    vq.Publish(static_cast<uint16_t>(data[(i + 2) % size] % 24));
  for (int i = 0; i < 32; ++i) {
    auto chain = queue.Pop(guest->memory());
    if (!chain.ok()) continue;
    if (!chain->has_value()) break;
    uint8_t scratch[256];
    ChainReader reader(guest->memory(), **chain);
    reader.ReadSome(scratch);
    ChainWriter writer(guest->memory(), **chain);
    (void)writer.Write(std::span<const uint8_t>(scratch, sizeof(scratch)));
    (void)queue.Push(guest->memory(), std::move(**chain), static_cast<uint32_t>(writer.written()));
    (void)queue.NeedsInterrupt(guest->memory());
  }
  return 0;
}
