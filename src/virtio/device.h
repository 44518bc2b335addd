// The interface every virtio device implements, whatever its transport.
//
// Threading: the MMIO transport calls into a device from vCPU threads
// (config space, activate, reset) and from the device event-loop thread
// (queue notifications). It serializes those calls with `DeviceContext::lock`;
// a device's own event-loop callbacks (e.g. a backend socket became readable)
// must take the same lock before touching queues or device state.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <string_view>
#include <vector>

#include "base/event_loop.h"
#include "base/guest_memory.h"
#include "base/result.h"
#include "base/state_stream.h"
#include "virtio/queue.h"

namespace vk::virtio {

// Device IDs, virtio 1.2 §5.
enum class DeviceType : uint32_t {
  kNet = 1,
  kBlock = 2,
  kConsole = 3,
  kRng = 4,
  kVsock = 19,
  kFs = 26,
};

// Feature bits defined by the virtio core (virtio 1.2 §6).
inline constexpr uint64_t kFeatureIndirectDesc = 1ull << 28;
inline constexpr uint64_t kFeatureEventIdx = 1ull << 29;
inline constexpr uint64_t kFeatureVersion1 = 1ull << 32;
inline constexpr uint64_t kFeatureAccessPlatform = 1ull << 33;

// How a device tells the driver something happened (virtio 1.2 §4.2.2,
// InterruptStatus bits). Implemented by the transport (irqfd in the VMM, a
// counter in tests).
class Interrupt {
 public:
  enum class Reason : uint32_t { kUsedBuffer = 1, kConfigChange = 2 };
  virtual ~Interrupt() = default;
  virtual void Trigger(Reason reason) = 0;
};

// What a device gets when the driver sets DRIVER_OK.
struct DeviceContext {
  const GuestMemory* memory = nullptr;  // non-owning; outlives the device
  std::span<Queue> queues;              // non-owning; the transport owns them
  Interrupt* interrupt = nullptr;       // non-owning
  EventLoop* loop = nullptr;            // non-owning; the device thread's loop
  std::mutex* lock = nullptr;           // non-owning; see the threading note
  uint64_t driver_features = 0;         // negotiated (offered & accepted)
};

class VirtioDevice {
 public:
  virtual ~VirtioDevice() = default;

  virtual DeviceType type() const = 0;
  // Name for logs and the kernel command line comment, e.g. "virtio-blk".
  virtual std::string_view name() const = 0;
  // Device feature bits offered (the transport adds VERSION_1, EVENT_IDX and
  // INDIRECT_DESC itself).
  virtual uint64_t features() const = 0;
  // One entry per virtqueue: its maximum size.
  virtual std::vector<uint16_t> queue_max_sizes() const = 0;
  // How many of those queues a vhost-user front end hands to its back end
  // (virtio/vhost_user/backend.h): the first N. All of them unless the
  // device's vhost-user convention keeps some in the front end.
  virtual size_t vhost_user_queue_count() const { return queue_max_sizes().size(); }

  // Device-specific configuration space (virtio 1.2 §4.2.2, offset 0x100+).
  // Out-of-range accesses read zeros / are ignored.
  virtual void ReadConfig(uint64_t offset, std::span<uint8_t> data) = 0;
  virtual void WriteConfig(uint64_t offset, std::span<const uint8_t> data) {
    (void)offset, (void)data;
  }

  // Driver set DRIVER_OK. The device may start processing queues.
  virtual Result<void> Activate(const DeviceContext& context) = 0;
  // The driver notified queue `index` (or a backend asked for a re-poll).
  virtual void ProcessQueue(size_t index) = 0;
  // Driver wrote 0 to Status: drop all in-flight state, stop using memory.
  virtual void Reset() = 0;

  // --- Snapshots (docs/snapshots.md) ---
  // Called only while the machine is paused: no vCPU runs and the call comes
  // from the device thread, so no queue callback runs concurrently.
  //
  // SaveState writes what the device needs beyond its queues' registers (the
  // transport saves those) to carry on after a restore. A device holding
  // popped chains it has not used yet (e.g. posted receive buffers) gives
  // them back first with Queue::Unpop, so the restored device pops them again.
  virtual Result<void> SaveState(StateWriter& out) = 0;
  // Called after Activate() on a fresh device with the restored queues: reads
  // exactly what SaveState wrote. Connections to the outside world (sockets,
  // sessions) are not carried over: the device tells the guest they are gone
  // the way its spec allows (e.g. virtio-vsock's TRANSPORT_RESET event).
  virtual Result<void> RestoreState(StateReader& in) = 0;
};

}  // namespace vk::virtio
