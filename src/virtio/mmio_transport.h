// virtio-mmio transport, version 2 (virtio 1.2 §4.2): the register window a
// device exposes at its MMIO base, feature negotiation, queue configuration
// and the device status state machine. Register accesses arrive from vCPU
// threads (MMIO exits); queue notifications arrive from the device event loop
// (an ioeventfd on QueueNotify, with the queue index as datamatch).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/event_loop.h"
#include "base/guest_memory.h"
#include "virtio/device.h"
#include "virtio/queue.h"

namespace vk::virtio {

// Register offsets, virtio 1.2 §4.2.2 table "MMIO Device Register Layout".
inline constexpr uint64_t kMmioQueueNotify = 0x050;
inline constexpr uint64_t kMmioWindowSize = 0x200;

class MmioTransport {
 public:
  // memory, loop: non-owning, outlive the transport.
  MmioTransport(std::unique_ptr<VirtioDevice> device, const GuestMemory* memory, EventLoop* loop,
                std::unique_ptr<Interrupt> interrupt);
  MmioTransport(const MmioTransport&) = delete;
  MmioTransport& operator=(const MmioTransport&) = delete;
  ~MmioTransport();

  // Guest register access at `offset` inside the window. Guest-controlled:
  // bad offsets/sizes read as zero and writes are ignored (logged once).
  void Read(uint64_t offset, std::span<uint8_t> data);
  void Write(uint64_t offset, std::span<const uint8_t> data);
  // The driver notified `queue` (ioeventfd path or a QueueNotify write).
  void Notify(uint32_t queue);

  // Snapshots: the register state (status, features, queue configuration and
  // ring positions, interrupt status) and then the device's own state. Only
  // while the machine is paused, from the device thread (see VirtioDevice).
  Result<void> SaveState(StateWriter& out);
  // Into a freshly constructed transport for the same device type: restores
  // the registers and queues, re-activates the device if the driver had set
  // DRIVER_OK, then hands the device its own state. The state is untrusted
  // input: anything the register path would refuse is refused, and on any
  // error the transport is left as freshly created (nothing half-restored).
  // Reads exactly one transport record from `in` (the device's own state is
  // a length-prefixed blob inside it).
  Result<void> RestoreState(StateReader& in);

  size_t queue_count() const { return queues_.size(); }
  VirtioDevice& device() { return *device_; }

 private:
  struct State;  // register state that a reset discards; defined in the .cc
  uint64_t OfferedFeatures() const;
  Queue* SelectedQueue();
  uint32_t ReadRegister(uint64_t offset);
  void WriteRegister(uint64_t offset, uint32_t value);
  void WriteQueueRegister(uint64_t offset, uint32_t value);
  void WriteQueueReady(Queue& queue, uint32_t value);
  void WriteStatus(uint32_t value);
  void Activate();
  Result<void> StartDevice();
  Result<void> RestoreLocked(StateReader& in);
  // The driver set something up wrongly: log it and set DEVICE_NEEDS_RESET.
  void NeedsReset(std::string_view what, const Error& why);
  void ResetDevice();

  std::unique_ptr<VirtioDevice> device_;
  const GuestMemory* memory_;
  EventLoop* loop_;
  std::unique_ptr<Interrupt> interrupt_;
  std::vector<Queue> queues_;
  std::mutex lock_;
  std::unique_ptr<State> state_;
};

}  // namespace vk::virtio
