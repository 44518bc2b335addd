// virtio-net (virtio 1.2 §5.1): one rx/tx queue pair, no control queue.
// Frames the guest transmits go to a backend FrameSink (a switch port, a
// StreamPort); frames for the guest arrive through Deliver() and wait in a
// bounded queue until the guest posts rx buffers.
//
// Offered: MAC, STATUS (link always up), MTU, MRG_RXBUF, CSUM + GUEST_CSUM,
// HOST_TSO4. Offloads are resolved inside the device (checksums completed,
// TSO frames segmented), so backends only ever see ordinary valid frames.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "base/frame_sink.h"
#include "base/result.h"
#include "virtio/device.h"
#include "virtio/net/net_header.h"

namespace vk::virtio {

struct NetOptions {
  std::array<uint8_t, 6> mac{0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  uint16_t mtu = 1500;  // 68 (RFC 791 minimum) .. 65535
  // Abuse bound: frames (and their bytes) waiting for the guest's rx buffers.
  // A guest that stops reading costs at most this much host memory; beyond
  // it frames are dropped, as a full NIC ring would.
  size_t rx_queue_frames = 1024;
  size_t rx_queue_bytes = 4 << 20;
};

// Counters, readable from any thread.
struct NetCounters {
  uint64_t rx_frames = 0, rx_bytes = 0, rx_dropped = 0;  // host -> guest
  uint64_t tx_frames = 0, tx_bytes = 0, tx_dropped = 0;  // guest -> backend (after TSO)
};

// Lifetime: Deliver() posts flushes to the device's event loop; destroy the
// device on that loop's thread or once the loop has stopped.
class NetDevice : public VirtioDevice, public net::FrameSink {
 public:
  static Result<std::unique_ptr<NetDevice>> Create(const NetOptions& options);
  ~NetDevice() override;

  // Where guest frames go (non-owning; may be null: frames are dropped).
  // Call before the device is activated, or under the device lock.
  void SetBackend(net::FrameSink* backend) { backend_ = backend; }
  NetCounters counters() const;

  // --- VirtioDevice ---
  DeviceType type() const override { return DeviceType::kNet; }
  std::string_view name() const override { return "virtio-net"; }
  uint64_t features() const override;
  std::vector<uint16_t> queue_max_sizes() const override { return {256, 256}; }
  void ReadConfig(uint64_t offset, std::span<uint8_t> data) override;
  Result<void> Activate(const DeviceContext& context) override;
  void ProcessQueue(size_t index) override;
  void Reset() override;
  // Gives held rx buffers back to the ring and saves the frames still
  // waiting for one; a restored device delivers those again.
  Result<void> SaveState(StateWriter& out) override;
  Result<void> RestoreState(StateReader& in) override;

  // --- net::FrameSink: a frame for the guest. Any thread; never blocks on
  // the guest. Frames are copied into the rx queue, which is flushed from
  // the event loop (or by the next queue notification).
  bool Deliver(std::span<const uint8_t> frame) override;

 private:
  explicit NetDevice(const NetOptions& options);

  // Counters bumped from several threads without a common lock.
  struct AtomicCounters {
    std::atomic<uint64_t> rx_frames{0}, rx_bytes{0}, rx_dropped{0};
    std::atomic<uint64_t> tx_frames{0}, tx_bytes{0}, tx_dropped{0};
  };

  const GuestMemory& memory() const { return *context_.memory; }
  bool Negotiated(uint64_t feature) const { return (context_.driver_features & feature) != 0; }

  // tx (net_device.cc)
  void ProcessTx();
  void HandleTxChain(const DescriptorChain& chain);
  void SendFrame(std::span<uint8_t> frame, const vnet::NetHeader& header);
  void ToBackend(std::span<const uint8_t> frame);
  void DropTx(std::string_view why);
  size_t MaxFrameLength() const;

  // rx (net_rx.cc); called with the device lock held.
  void FlushRx();
  enum class Placement { kPlaced, kNoBuffers, kDropped };
  Placement PlaceFrame(std::span<const uint8_t> frame);
  bool CollectRxChains(size_t bytes);
  void ReturnRxChain(DescriptorChain chain, uint32_t written);
  void GiveBackRxChains();
  void ScheduleFlushLocked();

  NetOptions options_;
  net::FrameSink* backend_ = nullptr;  // non-owning
  DeviceContext context_;
  bool active_ = false;                         // guarded by context_.lock
  std::vector<uint8_t> tx_frame_, tx_segment_;  // scratch, reused per frame
  // rx chains popped from the ring but not yet filled (a mergeable frame
  // needs several; virtio 1.2 §5.1.6.4). Returned to the ring on use.
  std::deque<DescriptorChain> rx_chains_;
  uint64_t rx_chain_bytes_ = 0;
  // A chain popped after the held ones went straight back to the used ring
  // (too small, malformed): the held ones are no longer the last popped, so
  // Queue::Unpop cannot give them back (GiveBackRxChains).
  bool rx_gap_ = false;
  bool rx_pushed_ = false;  // used ring changed since the last interrupt check

  // Frames waiting for rx buffers, guarded by rx_mutex_ (taken after the
  // device lock, never before it).
  std::mutex rx_mutex_;
  std::deque<std::vector<uint8_t>> rx_pending_;
  size_t rx_pending_bytes_ = 0;
  bool rx_accepting_ = false;
  bool flush_posted_ = false;
  EventLoop* rx_loop_ = nullptr;          // non-owning; where flushes run
  std::mutex* rx_device_lock_ = nullptr;  // non-owning; context_.lock
  // Lets a flush posted to the event loop notice the device is gone.
  std::shared_ptr<NetDevice*> alive_;

  AtomicCounters counters_;
};

}  // namespace vk::virtio
