#include "virtio/queue.h"

#include <atomic>
#include <cstring>
#include <string>

#include "base/log.h"

namespace vk::virtio {
namespace {

// Split ring layout, virtio 1.2 §2.7.
constexpr uint16_t kDescNext = 1;
constexpr uint16_t kDescWrite = 2;
constexpr uint16_t kDescIndirect = 4;
constexpr uint16_t kAvailNoInterrupt = 1;
constexpr uint64_t kDescSize = 16;
constexpr uint64_t kUsedElemSize = 8;
constexpr uint64_t kRingHeader = 4;  // flags + idx

struct RawDescriptor {
  uint64_t address;
  uint32_t length;
  uint16_t flags;
  uint16_t next;
};
static_assert(sizeof(RawDescriptor) == kDescSize);

// Collects a chain's buffers while checking the rules of §2.7.4 and §2.7.5.
class ChainBuilder {
 public:
  explicit ChainBuilder(const GuestMemory& memory) : memory_(memory) {}

  Result<void> Add(const RawDescriptor& desc) {
    if (desc.length == 0) return Ok();  // allowed, carries nothing
    if (!memory_.Contains(desc.address, desc.length)) {
      return Error("descriptor buffer outside guest memory");
    }
    total_ += desc.length;
    if (total_ > Queue::kMaxChainBytes) return Error("descriptor chain too long in bytes");
    if (desc.flags & kDescWrite) {
      writable_.push_back({desc.address, desc.length});
    } else {
      if (!writable_.empty()) return Error("readable descriptor after a writable one");
      readable_.push_back({desc.address, desc.length});
    }
    return Ok();
  }

  DescriptorChain Build(uint16_t head, uint32_t generation) {
    return DescriptorChain(head, std::move(readable_), std::move(writable_), generation);
  }

 private:
  const GuestMemory& memory_;
  std::vector<Buffer> readable_;
  std::vector<Buffer> writable_;
  uint64_t total_ = 0;
};

Result<void> AddIndirect(const GuestMemory& memory, const RawDescriptor& table,
                         ChainBuilder& builder) {
  // §2.7.5.3.1: len is a multiple of 16, no nested indirect, chain via next.
  if (table.length % kDescSize != 0 || table.length == 0) {
    return Error("indirect table length is not a multiple of 16");
  }
  uint64_t count = table.length / kDescSize;
  if (count > Queue::kMaxIndirect) return Error("indirect table too large");
  if (!memory.Contains(table.address, table.length)) {
    return Error("indirect table outside guest memory");
  }
  uint64_t index = 0;
  for (uint64_t steps = 0;; ++steps) {
    if (steps >= count) return Error("indirect descriptor chain loops");
    auto desc = VK_TRY(memory.Read<RawDescriptor>(table.address + index * kDescSize));
    if (desc.flags & kDescIndirect) return Error("nested indirect descriptor");
    VK_TRY(builder.Add(desc));
    if (!(desc.flags & kDescNext)) return Ok();
    index = desc.next;
    if (index >= count) return Error("indirect descriptor next out of range");
  }
}

}  // namespace

uint64_t DescriptorChain::readable_bytes() const {
  uint64_t total = 0;
  for (const Buffer& b : readable_) total += b.length;
  return total;
}

uint64_t DescriptorChain::writable_bytes() const {
  uint64_t total = 0;
  for (const Buffer& b : writable_) total += b.length;
  return total;
}

void Queue::Reset() {
  size_ = max_size_;
  event_idx_ = false;
  indirect_ = false;
  desc_table_ = avail_ring_ = used_ring_ = 0;
  set_ready(false);
  ++generation_;  // even if it was not ready: chains never outlive a reset
}

void Queue::set_ready(bool ready) {
  if (ready == ready_) return;
  ready_ = ready;
  ++generation_;
  next_avail_ = next_used_ = signalled_used_ = 0;
  broken_ = false;
  signalled_used_valid_ = false;
}

Result<void> Queue::Validate(const GuestMemory& memory) const {
  if (size_ == 0 || size_ > max_size_ || (size_ & (size_ - 1)) != 0) {
    return Error("queue size " + std::to_string(size_) +
                 " is not a power of two <= " + std::to_string(max_size_));
  }
  if (!memory.Contains(desc_table_, kDescSize * size_) ||
      !memory.Contains(avail_ring_, kRingHeader + 2ull * size_ + 2) ||
      !memory.Contains(used_ring_, kRingHeader + kUsedElemSize * size_ + 2)) {
    return Error("queue rings are outside guest memory");
  }
  return Ok();
}

Result<DescriptorChain> Queue::ReadChain(const GuestMemory& memory, uint16_t head) const {
  ChainBuilder builder(memory);
  uint16_t index = head;
  for (uint32_t steps = 0;; ++steps) {
    if (steps >= size_) return Error("descriptor chain loops or exceeds the queue size");
    if (index >= size_) return Error("descriptor index out of range");
    auto desc = VK_TRY(memory.Read<RawDescriptor>(desc_table_ + uint64_t{index} * kDescSize));
    if (desc.flags & kDescIndirect) {
      if (!indirect_) return Error("indirect descriptor without VIRTIO_F_INDIRECT_DESC");
      if (desc.flags & kDescNext) return Error("indirect descriptor with NEXT set");
      VK_TRY(AddIndirect(memory, desc, builder));
      break;
    }
    VK_TRY(builder.Add(desc));
    if (!(desc.flags & kDescNext)) break;
    index = desc.next;
  }
  return builder.Build(head, generation_);
}

Result<std::optional<DescriptorChain>> Queue::Pop(const GuestMemory& memory) {
  if (!ready_ || broken_) return std::optional<DescriptorChain>();
  auto avail_idx = memory.Read<uint16_t>(avail_ring_ + 2);
  if (!avail_idx.ok()) return Broken(std::move(avail_idx).error());
  // Read the index before the ring entries it publishes (§2.7.13.3).
  std::atomic_thread_fence(std::memory_order_acquire);
  if (*avail_idx == next_avail_) return std::optional<DescriptorChain>();
  if (static_cast<uint16_t>(*avail_idx - next_avail_) > size_) {
    return Broken(Error("driver published more buffers than the queue holds"));
  }
  uint64_t slot = avail_ring_ + kRingHeader + 2ull * (next_avail_ % size_);
  auto head_read = memory.Read<uint16_t>(slot);
  if (!head_read.ok()) return Broken(std::move(head_read).error());
  uint16_t head = *head_read;
  ++next_avail_;
  if (event_idx_) EnableNotification(memory);
  auto chain = ReadChain(memory, head);
  if (!chain.ok()) {
    // Give the head back so the driver does not wait on it forever.
    auto returned = PushHead(memory, head, 0);
    (void)returned;
    return std::move(chain).error().WithContext("malformed descriptor chain");
  }
  return std::optional<DescriptorChain>(std::move(chain).value());
}

Error Queue::Broken(Error error) {
  broken_ = true;
  return std::move(error).WithContext("virtqueue stopped until the driver resets it");
}

Result<void> Queue::PushHead(const GuestMemory& memory, uint16_t head, uint32_t written) {
  uint64_t slot = used_ring_ + kRingHeader + kUsedElemSize * (next_used_ % size_);
  VK_TRY(memory.Write<uint32_t>(slot, head));
  VK_TRY(memory.Write<uint32_t>(slot + 4, written));
  ++next_used_;
  // The element must be visible before the index that publishes it.
  std::atomic_thread_fence(std::memory_order_release);
  return memory.Write<uint16_t>(used_ring_ + 2, next_used_);
}

Result<void> Queue::Push(const GuestMemory& memory, DescriptorChain chain, uint32_t written) {
  // A chain of a disabled or reset queue: its ring may since have been
  // resized (even to 0) or moved, so nothing of it may be written back.
  if (!Owns(chain)) return Error("descriptor chain of a queue the driver disabled or reset");
  return PushHead(memory, chain.head(), written);
}

bool Queue::NeedsInterrupt(const GuestMemory& memory) {
  // Our used-index store must be visible before we read the driver's flags.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!event_idx_) {
    auto flags = memory.Read<uint16_t>(avail_ring_);
    return !flags.ok() || !(*flags & kAvailNoInterrupt);
  }
  auto used_event = memory.Read<uint16_t>(avail_ring_ + kRingHeader + 2ull * size_);
  uint16_t old = signalled_used_;
  bool valid = signalled_used_valid_;
  signalled_used_ = next_used_;
  signalled_used_valid_ = true;
  if (!used_event.ok() || !valid) return true;
  // vring_need_event(), §2.7.10: interrupt if used_event lies in (old, new].
  return static_cast<uint16_t>(next_used_ - *used_event - 1) <
         static_cast<uint16_t>(next_used_ - old);
}

void Queue::EnableNotification(const GuestMemory& memory) {
  if (!event_idx_) return;
  auto written =
      memory.Write<uint16_t>(used_ring_ + kRingHeader + kUsedElemSize * size_, next_avail_);
  (void)written;
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

bool Queue::HasAvailable(const GuestMemory& memory) const {
  auto avail_idx = memory.Read<uint16_t>(avail_ring_ + 2);
  return ready_ && avail_idx.ok() && *avail_idx != next_avail_;
}

void Queue::Unpop(uint16_t count) {
  // Bounded by what a ring can hold, so a buggy caller cannot rewind past
  // the driver's view by more than one ring (Pop re-checks the distance).
  next_avail_ -= std::min(count, size_);
}

void Queue::SaveState(StateWriter& out) const {
  out.BeginRecord("vq", 1);
  out.U16(max_size_);
  out.U16(size_);
  out.Bool(ready_);
  out.Bool(event_idx_);
  out.Bool(indirect_);
  out.U64(desc_table_);
  out.U64(avail_ring_);
  out.U64(used_ring_);
  out.U16(next_avail_);
  out.U16(next_used_);
  out.U16(signalled_used_);
  out.Bool(signalled_used_valid_);
  out.Bool(broken_);
}

Result<void> Queue::RestoreState(StateReader& in, const GuestMemory& memory) {
  VK_TRY(in.ExpectRecord("vq", 1));
  uint16_t max_size = VK_TRY(in.U16());
  if (max_size != max_size_) {
    return Error("saved queue holds up to " + std::to_string(max_size) + " entries, this one " +
                 std::to_string(max_size_));
  }
  Queue restored(max_size_);
  restored.size_ = VK_TRY(in.U16());
  bool ready = VK_TRY(in.Bool());
  restored.event_idx_ = VK_TRY(in.Bool());
  restored.indirect_ = VK_TRY(in.Bool());
  restored.desc_table_ = VK_TRY(in.U64());
  restored.avail_ring_ = VK_TRY(in.U64());
  restored.used_ring_ = VK_TRY(in.U64());
  restored.next_avail_ = VK_TRY(in.U16());
  restored.next_used_ = VK_TRY(in.U16());
  restored.signalled_used_ = VK_TRY(in.U16());
  restored.signalled_used_valid_ = VK_TRY(in.Bool());
  restored.broken_ = VK_TRY(in.Bool());
  // The same checks as QueueReady (mmio_transport.cc): a snapshot file is
  // as untrusted as a register write.
  if (ready) VK_TRY_CTX(restored.Validate(memory), "saved queue");
  restored.ready_ = ready;
  restored.generation_ = generation_ + 1;  // chains of before are not ours
  *this = restored;
  return Ok();
}

ChainReader::ChainReader(const GuestMemory& memory, const DescriptorChain& chain)
    : memory_(memory), buffers_(chain.readable()), remaining_(chain.readable_bytes()) {}

size_t ChainReader::ReadSome(std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size() && index_ < buffers_.size()) {
    const Buffer& buffer = buffers_[index_];
    uint64_t n = std::min<uint64_t>(buffer.length - offset_, out.size() - done);
    auto bytes = memory_.Slice(buffer.address + offset_, n);
    if (!bytes.ok()) break;  // checked at Pop time; defensive
    std::memcpy(out.data() + done, bytes->data(), n);
    done += n;
    offset_ += n;
    remaining_ -= n;
    if (offset_ == buffer.length) ++index_, offset_ = 0;
  }
  return done;
}

Result<void> ChainReader::Read(std::span<uint8_t> out) {
  if (out.size() > remaining_) return Error("descriptor chain too short to read from");
  if (ReadSome(out) != out.size()) return Error("descriptor chain unreadable");
  return Ok();
}

ChainWriter::ChainWriter(const GuestMemory& memory, const DescriptorChain& chain)
    : memory_(memory), buffers_(chain.writable()), remaining_(chain.writable_bytes()) {}

Result<void> ChainWriter::Write(std::span<const uint8_t> data) {
  if (data.size() > remaining_) return Error("descriptor chain too short to write to");
  size_t done = 0;
  while (done < data.size() && index_ < buffers_.size()) {
    const Buffer& buffer = buffers_[index_];
    uint64_t n = std::min<uint64_t>(buffer.length - offset_, data.size() - done);
    auto bytes = VK_TRY(memory_.Slice(buffer.address + offset_, n));
    std::memcpy(bytes.data(), data.data() + done, n);
    done += n;
    offset_ += n;
    written_ += n;
    remaining_ -= n;
    if (offset_ == buffer.length) ++index_, offset_ = 0;
  }
  return Ok();
}

}  // namespace vk::virtio
