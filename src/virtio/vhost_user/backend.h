// vhost-user back end: serves one of our VirtioDevices to a vhost-user front
// end (QEMU's vhost-user-fs-pci / -device, or any VMM speaking QEMU's
// docs/interop/vhost-user.rst). It plays the part MmioTransport plays for
// our own VMM: it owns the device's Queues, builds the DeviceContext and
// turns ring notifications into ProcessQueue() calls. All of it runs on one
// EventLoop thread; device calls hold the DeviceContext lock.
//
// Protocol rules followed (section names of vhost-user.rst):
// - "Feature negotiation": GET_FEATURES offers the device's bits plus
//   VERSION_1, EVENT_IDX, INDIRECT_DESC (our Queue implements both) and
//   VHOST_USER_F_PROTOCOL_FEATURES; SET_FEATURES accepts a subset only.
//   Protocol features offered: REPLY_ACK, CONFIG, RESET_DEVICE. Not offered:
//   MQ (GET_QUEUE_NUM is still answered), LOG_SHMFD (no dirty logging, so no
//   live migration), BACKEND_REQ (no back-end initiated messages: a config
//   change interrupt is dropped), CONFIGURE_MEM_SLOTS, INFLIGHT_SHMFD,
//   INBAND_NOTIFICATIONS, STATUS.
// - "Ring states": a ring starts when SET_VRING_KICK arrives (what QEMU,
//   libvhost-user and rust-vmm implement; the spec now says so too), stops
//   on GET_VRING_BASE (which returns the next avail index), and is disabled
//   until SET_VRING_ENABLE(1) when VHOST_USER_F_PROTOCOL_FEATURES was
//   negotiated; SET_FEATURES without that bit enables every ring. A kick on
//   a disabled ring is consumed and the ring processed once it is enabled.
// - The device is Activated once every one of its rings has been started
//   (and the memory table set). Stopping rings does not reset it: a stopped
//   ring is a not-ready Queue, so the device is "suspended" (it neither
//   reads nor writes guest memory) and keeps its state (e.g. a FUSE
//   session) across a VM pause. A SET_MEM_TABLE stops the started rings,
//   swaps the memory under the device lock and restarts them.
// - "Memory regions description": each region's fd is mapped MAP_SHARED at
//   mmap_offset; regions are refused when empty, overflowing, overlapping
//   (in guest-physical or front-end virtual space) or larger than their file.
//   Ring addresses (SET_VRING_ADDR) are front-end virtual addresses and are
//   translated to guest-physical ones through the table.
// - SET_VRING_KICK with the "no fd" bit (polling) is refused; SET_VRING_CALL
//   with it means no interrupts for that ring. The call eventfd of a ring is
//   written when its used index moved since its last signal (our Interrupt
//   names no queue). SET_VRING_ERR's fd is kept but never written.
// - "REPLY_ACK": with the feature negotiated and NEED_REPLY set, a request
//   without a reply of its own gets a u64 ack (0 ok, 1 failed). A failed
//   request without NEED_REPLY is logged.
// - Unknown or unsupported requests: refused with a failed ack when
//   NEED_REPLY is set, else logged and ignored; but one whose definition
//   has a reply (GET_STATUS, GET_INFLIGHT_FD, ...) closes the connection,
//   since the front end would otherwise wait for an answer forever. A
//   malformed message (ParseMessage) closes the connection too: the stream
//   cannot be trusted to be in step any more. So does a failed request that
//   has a reply of its own (GET_VRING_BASE of a ring that does not exist):
//   it has nothing to answer with.
// - RESET_OWNER (deprecated; "disable all rings") and RESET_DEVICE: the
//   device is reset, every ring forgotten and the memory table dropped; the
//   negotiated protocol features stay (they belong to the connection).
//   A disconnect does the same and forgets the negotiation as well, so the
//   next front end (a restarted VMM) starts clean.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "base/event_loop.h"
#include "base/guest_memory.h"
#include "base/mapped_region.h"
#include "base/result.h"
#include "base/unique_fd.h"
#include "virtio/device.h"
#include "virtio/queue.h"
#include "virtio/vhost_user/message.h"

namespace vk::virtio::vhost_user {

// "Feature negotiation" bit 30; protocol feature bits ("Protocol features").
inline constexpr uint64_t kFeatureProtocolFeatures = 1ull << 30;
inline constexpr uint64_t kProtocolFeatureMq = 1ull << 0;
inline constexpr uint64_t kProtocolFeatureReplyAck = 1ull << 3;
inline constexpr uint64_t kProtocolFeatureConfig = 1ull << 9;
inline constexpr uint64_t kProtocolFeatureResetDevice = 1ull << 13;

class VhostUserBackend {
 public:
  // loop: non-owning, outlives the backend; runs every callback.
  VhostUserBackend(std::unique_ptr<VirtioDevice> device, EventLoop* loop);
  VhostUserBackend(const VhostUserBackend&) = delete;
  VhostUserBackend& operator=(const VhostUserBackend&) = delete;
  ~VhostUserBackend();

  // Serves `connection` (a connected unix stream socket) on the loop until
  // the front end disconnects or breaks the protocol; then everything is
  // dropped (as Disconnect) and `on_closed` runs. One connection at a time.
  Result<void> Serve(UniqueFd connection, std::function<void()> on_closed = {});
  bool serving() const { return connection_.valid(); }
  // Drops the connection and everything the front end set up.
  void Disconnect();

  // Applies one parsed message and returns the reply to send, if any. An
  // error means the connection must be closed. Used by Serve, and directly
  // by tests and the fuzzer (no socket needed).
  Result<std::optional<Reply>> Handle(Message message);

  VirtioDevice& device() { return *device_; }
  bool activated() const { return activated_; }
  uint64_t OfferedFeatures() const;
  static constexpr uint64_t kOfferedProtocolFeatures =
      kProtocolFeatureReplyAck | kProtocolFeatureConfig | kProtocolFeatureResetDevice;
  // Leaves CONFIG out of the offer: a front end that does not use the
  // device's config space (QEMU's vhost-user-fs, which sets the tag itself)
  // warns about a back end offering it (the Rust virtiofsd offers it only
  // with --tag).
  void WithoutConfig() { offered_protocol_features_ &= ~kProtocolFeatureConfig; }
  uint64_t offered_protocol_features() const { return offered_protocol_features_; }

 private:
  uint64_t offered_protocol_features_ = kOfferedProtocolFeatures;
  // What the front end told us about one ring (the Queue holds the rest).
  struct Ring {
    uint16_t num = 0;                     // SET_VRING_NUM; 0 = not set yet
    std::optional<VringAddress> address;  // front-end virtual addresses
    uint16_t base = 0;                    // next avail index at start
    UniqueFd kick, call, err;
    bool started = false;
    bool enabled = false;
    uint16_t signalled_used = 0;  // used idx when `call` was last written
  };
  // One mapped memory-table region.
  struct Region {
    MemoryRegion description;
    MappedRegion mapping;
  };
  class CallInterrupt;
  enum class Forget { kRings, kEverything };

  Result<std::optional<Reply>> Dispatch(const Message& message, std::vector<UniqueFd>& fds);
  Result<void> SetFeatures(uint64_t features);
  Result<void> SetProtocolFeatures(uint64_t features);
  Result<void> SetMemTable(const std::vector<MemoryRegion>& table, std::vector<UniqueFd>& fds);
  Result<Ring*> RingAt(uint32_t index);
  Result<void> SetVringNum(const VringState& state);
  Result<void> SetVringAddr(const VringAddress& address);
  Result<void> SetVringBase(const VringState& state);
  Result<VringState> GetVringBase(const VringState& state);
  Result<void> SetVringFd(Request request, uint64_t value, std::vector<UniqueFd>& fds);
  Result<void> SetVringEnable(const VringState& state);
  Reply GetConfig(uint32_t request, const ConfigSpace& config);
  Result<void> SetConfig(const ConfigSpace& config);

  Result<uint64_t> Translate(uint64_t user_address) const;
  Result<void> StartRing(size_t index);
  void StopRing(size_t index);
  Result<void> MaybeActivate();
  void Process(size_t index);
  void OnKick(size_t index, uint32_t events);
  void OnReadable(uint32_t events);
  void SignalUsed();
  void ForgetState(Forget what);
  void CloseConnection();

  std::unique_ptr<VirtioDevice> device_;
  EventLoop* loop_;
  std::mutex lock_;  // the DeviceContext lock
  std::vector<Queue> queues_;
  std::vector<Ring> rings_;
  std::vector<Region> regions_;
  GuestMemory memory_;                    // over regions_; its address is what the device keeps
  std::unique_ptr<Interrupt> interrupt_;  // a CallInterrupt
  uint64_t acked_features_ = 0;
  uint64_t acked_protocol_features_ = 0;
  bool activated_ = false;
  UniqueFd connection_;
  std::function<void()> on_closed_;
};

}  // namespace vk::virtio::vhost_user
