// Split virtqueue (virtio 1.2 §2.7) as seen by the device side.
//
// Everything in the rings is guest-controlled: indices, descriptor addresses,
// lengths, flags and `next` links. Pop() validates a whole chain before a
// device sees it (addresses inside guest memory, no loops, total length
// bounded, readable descriptors before writable ones, indirect tables
// flattened), so device code works on checked (address, length) pairs only.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>
#include <vector>

#include "base/guest_memory.h"
#include "base/result.h"
#include "base/state_stream.h"

namespace vk::virtio {

// One buffer of a validated chain: [address, address+length) is inside guest
// memory (checked at Pop time; reads/writes still go through GuestMemory).
struct Buffer {
  uint64_t address = 0;
  uint32_t length = 0;
};

// A validated descriptor chain. Move-only: it must be returned to the used
// ring exactly once through Queue::Push(). It remembers the queue generation
// it was popped in: once the driver disables or resets the queue, the chain
// belongs to a ring that no longer exists and Push() refuses it.
class DescriptorChain {
 public:
  DescriptorChain(uint16_t head, std::vector<Buffer> readable, std::vector<Buffer> writable,
                  uint32_t generation = 0)
      : head_(head),
        generation_(generation),
        readable_(std::move(readable)),
        writable_(std::move(writable)) {}
  DescriptorChain(DescriptorChain&&) = default;
  DescriptorChain& operator=(DescriptorChain&&) = default;
  DescriptorChain(const DescriptorChain&) = delete;
  DescriptorChain& operator=(const DescriptorChain&) = delete;

  uint16_t head() const { return head_; }
  uint32_t generation() const { return generation_; }
  std::span<const Buffer> readable() const { return readable_; }
  std::span<const Buffer> writable() const { return writable_; }
  uint64_t readable_bytes() const;
  uint64_t writable_bytes() const;

 private:
  uint16_t head_;
  uint32_t generation_;
  std::vector<Buffer> readable_;  // device-readable (driver -> device)
  std::vector<Buffer> writable_;  // device-writable (device -> driver)
};

// Sequential reader over a chain's readable buffers.
class ChainReader {
 public:
  ChainReader(const GuestMemory& memory, const DescriptorChain& chain);
  // Reads exactly out.size() bytes or fails (short chain).
  Result<void> Read(std::span<uint8_t> out);
  template <typename T>
  requires std::is_trivially_copyable_v<T> Result<T> Read() {
    T value;
    VK_TRY(Read(std::span<uint8_t>(reinterpret_cast<uint8_t*>(&value), sizeof(T))));
    return value;
  }
  // Reads up to out.size() bytes; returns how many were read.
  size_t ReadSome(std::span<uint8_t> out);
  uint64_t remaining() const { return remaining_; }

 private:
  const GuestMemory& memory_;
  std::span<const Buffer> buffers_;
  size_t index_ = 0;
  uint64_t offset_ = 0;
  uint64_t remaining_ = 0;
};

// Sequential writer over a chain's writable buffers.
class ChainWriter {
 public:
  ChainWriter(const GuestMemory& memory, const DescriptorChain& chain);
  // Writes all of data or fails (chain too short); partial writes are kept.
  Result<void> Write(std::span<const uint8_t> data);
  // Only for plain structs: a container must go through the span overload.
  template <typename T>
  // Spans are trivially copyable too: writing one must be spelled as bytes
  // (the overload above), never as the span object itself.
  requires(std::is_trivially_copyable_v<T> &&
           !std::is_convertible_v<T, std::span<const uint8_t>>) Result<void> Write(const T& value) {
    return Write(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&value), sizeof(T)));
  }
  uint64_t written() const { return written_; }
  uint64_t remaining() const { return remaining_; }

 private:
  const GuestMemory& memory_;
  std::span<const Buffer> buffers_;
  size_t index_ = 0;
  uint64_t offset_ = 0;
  uint64_t written_ = 0;
  uint64_t remaining_ = 0;
};

class Queue {
 public:
  // Abuse bound: a chain longer than the queue size (or, with indirect
  // descriptors, than kMaxIndirect) is rejected, as is one whose total length
  // exceeds kMaxChainBytes.
  static constexpr uint32_t kMaxIndirect = 1024;
  static constexpr uint64_t kMaxChainBytes = 64ull << 20;

  explicit Queue(uint16_t max_size) : max_size_(max_size), size_(max_size) {}

  // --- Transport side (register writes; virtio 1.2 §4.2.2) ---
  uint16_t max_size() const { return max_size_; }
  uint16_t size() const { return size_; }
  void set_size(uint16_t size) { size_ = size; }
  bool ready() const { return ready_; }
  // The transport validates (Validate) before it sets a queue ready. Any
  // change of readiness starts a new generation: the ring positions restart
  // at 0 and chains popped before are refused by Push().
  void set_ready(bool ready);
  void set_descriptor_table(uint64_t address) { desc_table_ = address; }
  void set_available_ring(uint64_t address) { avail_ring_ = address; }
  void set_used_ring(uint64_t address) { used_ring_ = address; }
  uint64_t descriptor_table() const { return desc_table_; }
  uint64_t available_ring() const { return avail_ring_; }
  uint64_t used_ring() const { return used_ring_; }
  // VIRTIO_F_EVENT_IDX negotiated (virtio 1.2 §2.7.10).
  void set_event_idx(bool enabled) { event_idx_ = enabled; }
  void set_indirect(bool enabled) { indirect_ = enabled; }
  void Reset();
  bool broken() const { return broken_; }
  // Checks the configuration the driver set before the device may use the
  // queue: size nonzero, a power of two (split rings, virtio 1.2 §2.7) and
  // <= max_size, rings inside guest memory.
  Result<void> Validate(const GuestMemory& memory) const;

  // --- Device side ---
  // The next available chain, std::nullopt if the ring is empty, or an error
  // for a malformed chain. A malformed chain's head is consumed and returned
  // to the used ring with length 0, so the driver never waits on it forever.
  Result<std::optional<DescriptorChain>> Pop(const GuestMemory& memory);
  // Returns a chain to the used ring with the number of bytes written. A
  // chain from an earlier generation (see set_ready) is dropped with an error.
  Result<void> Push(const GuestMemory& memory, DescriptorChain chain, uint32_t written);
  // Whether `chain` was popped from this queue's current generation.
  bool Owns(const DescriptorChain& chain) const {
    return ready_ && chain.generation() == generation_;
  }
  // Whether the driver wants an interrupt for what was pushed since the last
  // call (honours VIRTQ_AVAIL_F_NO_INTERRUPT or used_event with EVENT_IDX).
  bool NeedsInterrupt(const GuestMemory& memory);
  // With EVENT_IDX, tells the driver to notify when it adds past the current
  // position (set avail_event); call before re-checking an empty ring.
  void EnableNotification(const GuestMemory& memory);
  // Whether avail has entries the device has not popped yet.
  bool HasAvailable(const GuestMemory& memory) const;
  // vhost-user (vhost_user/backend.h): the front end carries the ring
  // positions across a back-end stop and restart (GET_VRING_BASE returns
  // next_avail; the used index is read back from the used ring). Only for a
  // ready queue: any readiness change restarts both at 0.
  uint16_t next_avail() const { return next_avail_; }
  void set_ring_positions(uint16_t next_avail, uint16_t next_used) {
    next_avail_ = next_avail;
    next_used_ = signalled_used_ = next_used;
  }
  // Gives back the `count` most recently popped chains (snapshots: chains a
  // device held unused): the next Pop() returns them again, oldest first.
  // They must be the last chains popped, none of them pushed; chains popped
  // before stay valid, the given-back ones must be dropped by the caller.
  void Unpop(uint16_t count);

  // --- Snapshots (docs/snapshots.md) ---
  // Configuration and ring positions. Chains popped before a save belong to
  // this process only: a device gives back the ones it holds (Unpop) first.
  void SaveState(StateWriter& out) const;
  // Into a queue of the same max_size. The values are untrusted like
  // register writes: a ready queue must pass Validate() against `memory`.
  // Starts a new generation, so no chain popped before is pushed after.
  Result<void> RestoreState(StateReader& in, const GuestMemory& memory);

 private:
  Result<void> PushHead(const GuestMemory& memory, uint16_t head, uint32_t written);
  Result<DescriptorChain> ReadChain(const GuestMemory& memory, uint16_t head) const;

  uint16_t max_size_;
  uint16_t size_;
  bool ready_ = false;
  bool event_idx_ = false;
  bool indirect_ = false;
  uint64_t desc_table_ = 0;
  uint64_t avail_ring_ = 0;
  uint64_t used_ring_ = 0;
  uint32_t generation_ = 0;  // bumped on every readiness change and reset
  uint16_t next_avail_ = 0;  // device's position in the avail ring
  // The avail ring itself is unusable (index runs past the queue, ring outside
  // guest memory): nothing more is popped until the driver resets the queue,
  // so a hostile driver cannot make the device loop on the same error.
  bool broken_ = false;
  Error Broken(Error error);
  uint16_t next_used_ = 0;       // device's position in the used ring
  uint16_t signalled_used_ = 0;  // used idx at the last interrupt decision
  bool signalled_used_valid_ = false;
};

}  // namespace vk::virtio
