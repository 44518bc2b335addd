// Test harness: plays the driver side of a split virtqueue (virtio 1.2 §2.7)
// in a fake guest memory, so device code can be tested without a VM.
//
//   FakeGuest guest;                       // 4 MiB of "guest RAM"
//   Queue queue(256);
//   FakeVirtqueue vq(guest, queue);        // lays out rings, marks ready
//   uint16_t head = vq.AddChain({request_bytes}, {512, 1});
//   device.ProcessQueue(0);
//   auto used = vq.NextUsed();             // {id, len}
//   std::vector<uint8_t> reply = vq.Written(head);
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "base/guest_memory.h"
#include "virtio/device.h"
#include "virtio/queue.h"

namespace vk::virtio::testing {

class FakeGuest {
 public:
  explicit FakeGuest(size_t bytes = 4 << 20)
      : ram_(bytes), memory_(GuestMemory::Wrap({{0, ram_.data(), ram_.size()}})) {}
  FakeGuest(const FakeGuest&) = delete;
  FakeGuest& operator=(const FakeGuest&) = delete;

  const GuestMemory& memory() const { return memory_; }
  uint8_t* host(uint64_t gpa) { return ram_.data() + gpa; }
  // Bump allocator over guest RAM (never frees; tests are short).
  uint64_t Alloc(size_t size, size_t align = 16) {
    next_ = (next_ + align - 1) & ~(align - 1);
    uint64_t address = next_;
    next_ += size;
    if (next_ > ram_.size()) std::abort();
    return address;
  }
  void Write(uint64_t gpa, std::span<const uint8_t> bytes) {
    if (bytes.empty()) return;  // an empty span's data() may be null (memcpy UB)
    std::memcpy(ram_.data() + gpa, bytes.data(), bytes.size());
  }
  std::vector<uint8_t> Read(uint64_t gpa, size_t size) const {
    return std::vector<uint8_t>(ram_.begin() + gpa, ram_.begin() + gpa + size);
  }

 private:
  std::vector<uint8_t> ram_;
  GuestMemory memory_;
  uint64_t next_ = 0x1000;
};

class FakeVirtqueue {
 public:
  static constexpr uint16_t kNext = 1, kWrite = 2, kIndirect = 4;

  FakeVirtqueue(FakeGuest& guest, Queue& queue, uint16_t size = 0, bool event_idx = false)
      : FakeVirtqueue(guest, size ? size : queue.max_size()) {
    queue.set_size(size_);
    queue.set_descriptor_table(desc_);
    queue.set_available_ring(avail_);
    queue.set_used_ring(used_);
    queue.set_event_idx(event_idx);
    queue.set_indirect(true);
    queue.set_ready(true);
  }
  // The driver side only: lays out the rings; the caller tells the device
  // where they are (e.g. through MMIO registers, testing/fake_driver.h).
  FakeVirtqueue(FakeGuest& guest, uint16_t size) : guest_(guest), size_(size) {
    desc_ = guest.Alloc(16ull * size_, 16);
    avail_ = guest.Alloc(6 + 2ull * size_, 2);
    used_ = guest.Alloc(6 + 8ull * size_, 4);
  }

  // Adds a chain of readable buffers (with these bytes) followed by writable
  // buffers of these sizes, publishes it, and returns its head index.
  uint16_t AddChain(const std::vector<std::vector<uint8_t>>& readable,
                    const std::vector<uint32_t>& writable_sizes) {
    std::vector<uint16_t> indices;
    for (const auto& bytes : readable) {
      uint64_t buffer = guest_.Alloc(bytes.size() ? bytes.size() : 1);
      guest_.Write(buffer, bytes);
      indices.push_back(NewDescriptor(buffer, static_cast<uint32_t>(bytes.size()), 0));
    }
    std::vector<uint64_t> writable;
    for (uint32_t size : writable_sizes) {
      uint64_t buffer = guest_.Alloc(size ? size : 1);
      writable.push_back(buffer);
      indices.push_back(NewDescriptor(buffer, size, kWrite));
    }
    for (size_t i = 0; i + 1 < indices.size(); ++i) Link(indices[i], indices[i + 1]);
    uint16_t head = indices.at(0);
    writable_[head] = {writable, writable_sizes};
    Publish(head);
    return head;
  }

  // Raw access for hostile-chain tests.
  void SetDescriptor(uint16_t index, uint64_t address, uint32_t length, uint16_t flags,
                     uint16_t next) {
    uint64_t at = desc_ + 16ull * index;
    std::memcpy(guest_.host(at), &address, 8);
    std::memcpy(guest_.host(at + 8), &length, 4);
    std::memcpy(guest_.host(at + 12), &flags, 2);
    std::memcpy(guest_.host(at + 14), &next, 2);
  }
  void Publish(uint16_t head) {
    uint16_t idx = AvailIdx();
    std::memcpy(guest_.host(avail_ + 4 + 2ull * (idx % size_)), &head, 2);
    ++idx;
    std::memcpy(guest_.host(avail_ + 2), &idx, 2);
  }
  void SetAvailFlags(uint16_t flags) { std::memcpy(guest_.host(avail_), &flags, 2); }
  void SetUsedEvent(uint16_t value) {
    std::memcpy(guest_.host(avail_ + 4 + 2ull * size_), &value, 2);
  }
  uint16_t AvailEvent() const { return Load16(used_ + 4 + 8ull * size_); }

  struct Used {
    uint32_t id;
    uint32_t length;
  };
  // The next used element the device returned, if any.
  std::optional<Used> NextUsed() {
    if (Load16(used_ + 2) == last_used_) return std::nullopt;
    uint64_t at = used_ + 4 + 8ull * (last_used_ % size_);
    ++last_used_;
    Used used;
    std::memcpy(&used.id, guest_.host(at), 4);
    std::memcpy(&used.length, guest_.host(at + 4), 4);
    return used;
  }
  // Bytes of the writable buffers of the chain at `head` (all of them).
  std::vector<uint8_t> Written(uint16_t head) const {
    std::vector<uint8_t> bytes;
    const auto& [addresses, sizes] = writable_.at(head);
    for (size_t i = 0; i < addresses.size(); ++i) {
      auto part = guest_.Read(addresses[i], sizes[i]);
      bytes.insert(bytes.end(), part.begin(), part.end());
    }
    return bytes;
  }
  uint16_t size() const { return size_; }
  uint64_t descriptor_table() const { return desc_; }
  uint64_t available_ring() const { return avail_; }
  uint64_t used_ring() const { return used_; }
  uint16_t UsedIdx() const { return Load16(used_ + 2); }

 private:
  uint16_t NewDescriptor(uint64_t address, uint32_t length, uint16_t flags) {
    uint16_t index = next_desc_++ % size_;
    SetDescriptor(index, address, length, flags, 0);
    return index;
  }
  void Link(uint16_t from, uint16_t to) {
    uint64_t at = desc_ + 16ull * from;
    uint16_t flags;
    std::memcpy(&flags, guest_.host(at + 12), 2);
    flags |= kNext;
    std::memcpy(guest_.host(at + 12), &flags, 2);
    std::memcpy(guest_.host(at + 14), &to, 2);
  }
  uint16_t AvailIdx() const { return Load16(avail_ + 2); }
  uint16_t Load16(uint64_t gpa) const {
    uint16_t v;
    std::memcpy(&v, const_cast<FakeGuest&>(guest_).host(gpa), 2);
    return v;
  }

  FakeGuest& guest_;
  uint16_t size_;
  uint64_t desc_ = 0, avail_ = 0, used_ = 0;
  uint16_t next_desc_ = 0;
  uint16_t last_used_ = 0;
  std::map<uint16_t, std::pair<std::vector<uint64_t>, std::vector<uint32_t>>> writable_;
};

// Counts interrupts instead of raising them.
class CountingInterrupt : public Interrupt {
 public:
  void Trigger(Reason reason) override {
    ++count;
    last = reason;
  }
  int count = 0;
  Reason last = Reason::kUsedBuffer;
};

// A DeviceContext over a fake guest, for Activate() in tests.
struct FakeDeviceContext {
  explicit FakeDeviceContext(FakeGuest& guest, std::span<Queue> queues, EventLoop* loop = nullptr) {
    context.memory = &guest.memory();
    context.queues = queues;
    context.interrupt = &interrupt;
    context.loop = loop;
    context.lock = &lock;
    context.driver_features = ~0ull;
  }
  CountingInterrupt interrupt;
  std::mutex lock;
  DeviceContext context;
};

}  // namespace vk::virtio::testing
