#include "virtio/mmio_transport.h"

#include <atomic>
#include <cstring>

#include "base/log.h"

namespace vk::virtio {
namespace {

// Register offsets, virtio 1.2 §4.2.2.
enum Register : uint64_t {
  kMagicValue = 0x000,
  kVersion = 0x004,
  kDeviceId = 0x008,
  kVendorId = 0x00c,
  kDeviceFeatures = 0x010,
  kDeviceFeaturesSel = 0x014,
  kDriverFeatures = 0x020,
  kDriverFeaturesSel = 0x024,
  kQueueSel = 0x030,
  kQueueNumMax = 0x034,
  kQueueNum = 0x038,
  kQueueReady = 0x044,
  kInterruptStatus = 0x060,
  kInterruptAck = 0x064,
  kStatus = 0x070,
  kQueueDescLow = 0x080,
  kQueueDescHigh = 0x084,
  kQueueDriverLow = 0x090,
  kQueueDriverHigh = 0x094,
  kQueueDeviceLow = 0x0a0,
  kQueueDeviceHigh = 0x0a4,
  kShmLenLow = 0x0b0,
  kShmLenHigh = 0x0b4,
  kShmBaseLow = 0x0b8,
  kShmBaseHigh = 0x0bc,
  kConfigGeneration = 0x0fc,
  kConfig = 0x100,
};

constexpr uint32_t kMagic = 0x74726976;   // "virt"
constexpr uint32_t kVendor = 0x54494b56;  // "VKIT"
// Device status bits, §2.1.
constexpr uint32_t kStatusFeaturesOk = 8;
constexpr uint32_t kStatusDriverOk = 4;
constexpr uint32_t kStatusNeedsReset = 64;

uint64_t SetHalf(uint64_t value, uint32_t half, bool high) {
  return high ? (value & 0xffffffffull) | (uint64_t{half} << 32) : (value & ~0xffffffffull) | half;
}

}  // namespace

// Interrupt handed to the device: records the reason in InterruptStatus
// before raising the line, as the driver reads it to know why.
class StatusInterrupt : public Interrupt {
 public:
  StatusInterrupt(std::atomic<uint32_t>* status, Interrupt* line) : status_(status), line_(line) {}
  void Trigger(Reason reason) override {
    status_->fetch_or(static_cast<uint32_t>(reason));
    line_->Trigger(reason);
  }

 private:
  std::atomic<uint32_t>* status_;
  Interrupt* line_;
};

struct MmioTransport::State {
  uint32_t status = 0;
  uint32_t device_features_sel = 0;
  uint32_t driver_features_sel = 0;
  uint64_t driver_features = 0;
  uint32_t queue_sel = 0;
  uint32_t config_generation = 0;
  bool activated = false;
  std::atomic<uint32_t> interrupt_status{0};
  std::unique_ptr<StatusInterrupt> interrupt;
};

MmioTransport::MmioTransport(std::unique_ptr<VirtioDevice> device, const GuestMemory* memory,
                             EventLoop* loop, std::unique_ptr<Interrupt> interrupt)
    : device_(std::move(device)),
      memory_(memory),
      loop_(loop),
      interrupt_(std::move(interrupt)),
      state_(std::make_unique<State>()) {
  for (uint16_t max : device_->queue_max_sizes()) queues_.emplace_back(max);
  state_->interrupt =
      std::make_unique<StatusInterrupt>(&state_->interrupt_status, interrupt_.get());
}

MmioTransport::~MmioTransport() {
  std::lock_guard lock(lock_);
  if (state_->activated) device_->Reset();
}

uint64_t MmioTransport::OfferedFeatures() const {
  return device_->features() | kFeatureVersion1 | kFeatureEventIdx | kFeatureIndirectDesc;
}

Queue* MmioTransport::SelectedQueue() {
  return state_->queue_sel < queues_.size() ? &queues_[state_->queue_sel] : nullptr;
}

uint32_t MmioTransport::ReadRegister(uint64_t offset) {
  Queue* queue = SelectedQueue();
  switch (offset) {
    case kMagicValue: return kMagic;
    case kVersion: return 2;
    case kDeviceId: return static_cast<uint32_t>(device_->type());
    case kVendorId: return kVendor;
    case kDeviceFeatures:
      return state_->device_features_sel > 1
                 ? 0
                 : static_cast<uint32_t>(OfferedFeatures() >> (32 * state_->device_features_sel));
    case kQueueNumMax: return queue ? queue->max_size() : 0;
    case kQueueReady: return queue && queue->ready() ? 1 : 0;
    case kInterruptStatus: return state_->interrupt_status.load();
    case kStatus: return state_->status;
    case kShmLenLow:
    case kShmLenHigh: return 0xffffffff;  // no shared memory regions (§4.2.2)
    case kConfigGeneration: return state_->config_generation;
    default: return 0;
  }
}

void MmioTransport::WriteQueueRegister(uint64_t offset, uint32_t value) {
  Queue* queue = SelectedQueue();
  // Queue layout may only change while the queue is not ready (§4.2.2.2).
  if (queue == nullptr || (queue->ready() && offset != kQueueReady)) return;
  switch (offset) {
    case kQueueNum:
      queue->set_size(static_cast<uint16_t>(std::min<uint32_t>(value, 0xffff)));
      break;
    case kQueueReady: WriteQueueReady(*queue, value); break;
    case kQueueDescLow:
    case kQueueDescHigh:
      queue->set_descriptor_table(
          SetHalf(queue->descriptor_table(), value, offset == kQueueDescHigh));
      break;
    case kQueueDriverLow:
    case kQueueDriverHigh:
      queue->set_available_ring(
          SetHalf(queue->available_ring(), value, offset == kQueueDriverHigh));
      break;
    case kQueueDeviceLow:
    case kQueueDeviceHigh:
      queue->set_used_ring(SetHalf(queue->used_ring(), value, offset == kQueueDeviceHigh));
      break;
    default: break;
  }
}

// QueueReady (virtio 1.2 §4.2.2). The driver may write it at any time, also
// after DRIVER_OK and after changing QueueNum while the queue was off, so the
// configuration is checked on every write of 1 (Queue::Validate: a size of 0,
// not a power of two or above QueueNumMax, or rings outside guest memory
// never reach the ring code). A refused queue stays off and the device asks
// for a reset (§2.1.2 DEVICE_NEEDS_RESET). Writing 0 turns the queue off and
// starts a new queue generation, so chains a device still holds are never
// written back into a ring the driver may now resize or move (Queue::Push).
void MmioTransport::WriteQueueReady(Queue& queue, uint32_t value) {
  if (value != 1) {
    queue.set_ready(false);
    return;
  }
  if (queue.ready()) return;
  auto valid = queue.Validate(*memory_);
  if (!valid.ok()) return NeedsReset("queue " + std::to_string(state_->queue_sel), valid.error());
  queue.set_ready(true);
}

void MmioTransport::WriteRegister(uint64_t offset, uint32_t value) {
  switch (offset) {
    case kDeviceFeaturesSel: state_->device_features_sel = value; return;
    case kDriverFeaturesSel: state_->driver_features_sel = value; return;
    case kDriverFeatures:
      if (state_->driver_features_sel <= 1 && !(state_->status & kStatusFeaturesOk)) {
        state_->driver_features =
            SetHalf(state_->driver_features, value, state_->driver_features_sel == 1);
      }
      return;
    case kQueueSel: state_->queue_sel = value; return;
    case kInterruptAck: state_->interrupt_status.fetch_and(~value); return;
    case kStatus: WriteStatus(value); return;
    case kQueueNum:
    case kQueueReady:
    case kQueueDescLow:
    case kQueueDescHigh:
    case kQueueDriverLow:
    case kQueueDriverHigh:
    case kQueueDeviceLow:
    case kQueueDeviceHigh: WriteQueueRegister(offset, value); return;
    default: return;
  }
}

void MmioTransport::WriteStatus(uint32_t value) {
  if (value == 0) {
    ResetDevice();
    return;
  }
  uint32_t newly = value & ~state_->status;
  if (newly & kStatusFeaturesOk) {
    // §3.1.1: accept only offered features, and only the modern interface.
    uint64_t accepted = state_->driver_features;
    if ((accepted & ~OfferedFeatures()) != 0 || !(accepted & kFeatureVersion1)) {
      value &= ~kStatusFeaturesOk;
    }
  }
  // DEVICE_NEEDS_RESET is the device's to set and only a reset clears it; a
  // device that needs one is not started.
  const bool needs_reset = state_->status & kStatusNeedsReset;
  state_->status = value | (needs_reset ? kStatusNeedsReset : 0);
  if ((newly & kStatusDriverOk) && (value & kStatusFeaturesOk) && !needs_reset) Activate();
}

void MmioTransport::Activate() {
  auto started = StartDevice();
  if (!started.ok()) NeedsReset("cannot start the device", started.error());
}

// DRIVER_OK, or a restore of a device that was running: both start it the
// same way, so a restored device gets the same DeviceContext.
Result<void> MmioTransport::StartDevice() {
  uint64_t features = state_->driver_features;
  for (Queue& queue : queues_) {
    queue.set_event_idx(features & kFeatureEventIdx);
    queue.set_indirect(features & kFeatureIndirectDesc);
    // Checked when it was set ready; again, as memory may have changed.
    if (queue.ready()) VK_TRY(queue.Validate(*memory_));
  }
  DeviceContext context;
  context.memory = memory_;
  context.queues = queues_;
  context.interrupt = state_->interrupt.get();
  context.loop = loop_;
  context.lock = &lock_;
  context.driver_features = features;
  VK_TRY(device_->Activate(context));
  state_->activated = true;
  return Ok();
}

void MmioTransport::NeedsReset(std::string_view what, const Error& why) {
  // guest-triggered (a driver can repeat it in a loop): rate-limited.
  log::WarnLimited(device_->name(), "{}: {}: {}", device_->name(), what, why.message());
  state_->status |= kStatusNeedsReset;
  state_->interrupt->Trigger(Interrupt::Reason::kConfigChange);
}

void MmioTransport::ResetDevice() {
  if (state_->activated) device_->Reset();
  for (Queue& queue : queues_) queue.Reset();
  uint32_t generation = state_->config_generation;
  auto interrupt = std::move(state_->interrupt);
  state_ = std::make_unique<State>();
  state_->config_generation = generation + 1;
  state_->interrupt =
      std::make_unique<StatusInterrupt>(&state_->interrupt_status, interrupt_.get());
}

Result<void> MmioTransport::SaveState(StateWriter& out) {
  std::lock_guard lock(lock_);
  out.BeginRecord("mmio", 1);
  out.U32(static_cast<uint32_t>(device_->type()));
  out.U32(static_cast<uint32_t>(queues_.size()));
  out.U32(state_->status);
  out.U32(state_->device_features_sel);
  out.U32(state_->driver_features_sel);
  out.U64(state_->driver_features);
  out.U32(state_->queue_sel);
  out.U32(state_->config_generation);
  out.U32(state_->interrupt_status.load());
  out.Bool(state_->activated);
  // The device first: it may give popped chains back (Queue::Unpop), which
  // moves its queues' positions; so its state goes after theirs in the
  // stream but is produced before them.
  StateWriter device;
  if (state_->activated) VK_TRY_CTX(device_->SaveState(device), std::string(device_->name()));
  for (const Queue& queue : queues_) queue.SaveState(out);
  out.Bytes(device.bytes());
  return Ok();
}

Result<void> MmioTransport::RestoreState(StateReader& in) {
  std::lock_guard lock(lock_);
  if (state_->activated || state_->status != 0) {
    return Error(std::string(device_->name()) + ": restore needs a freshly created device");
  }
  auto restored = RestoreLocked(in);
  // No half-restored device: back to the state of a fresh one.
  if (!restored.ok()) ResetDevice();
  return restored;
}

Result<void> MmioTransport::RestoreLocked(StateReader& in) {
  VK_TRY(in.ExpectRecord("mmio", 1));
  uint32_t type = VK_TRY(in.U32());
  if (type != static_cast<uint32_t>(device_->type())) {
    return Error("saved state is of virtio device type " + std::to_string(type) + ", not of " +
                 std::string(device_->name()) + " (type " +
                 std::to_string(static_cast<uint32_t>(device_->type())) + ")");
  }
  uint32_t queue_count = VK_TRY(in.U32());
  if (queue_count != queues_.size()) {
    return Error(std::string(device_->name()) + ": saved state has " + std::to_string(queue_count) +
                 " queues, this device " + std::to_string(queues_.size()));
  }
  state_->status = VK_TRY(in.U32());
  state_->device_features_sel = VK_TRY(in.U32());
  state_->driver_features_sel = VK_TRY(in.U32());
  state_->driver_features = VK_TRY(in.U64());
  state_->queue_sel = VK_TRY(in.U32());
  state_->config_generation = VK_TRY(in.U32());
  state_->interrupt_status = VK_TRY(in.U32());
  bool activated = VK_TRY(in.Bool());
  // As WriteStatus allows: only offered features, DRIVER_OK after FEATURES_OK.
  if ((state_->driver_features & ~OfferedFeatures()) != 0) {
    return Error(std::string(device_->name()) + ": saved state accepted features never offered");
  }
  const uint32_t started = kStatusFeaturesOk | kStatusDriverOk;
  if (activated && (state_->status & started) != started) {
    return Error(std::string(device_->name()) + ": saved state runs a device without DRIVER_OK");
  }
  for (size_t i = 0; i < queues_.size(); ++i) {
    VK_TRY_CTX(queues_[i].RestoreState(in, *memory_), "queue " + std::to_string(i));
  }
  std::vector<uint8_t> device_state = VK_TRY(in.Bytes());
  if (!activated) {
    if (!device_state.empty()) return Error("saved state of a device that was not started");
    return Ok();
  }
  VK_TRY_CTX(StartDevice(), "restoring " + std::string(device_->name()));
  StateReader device(device_state);
  VK_TRY_CTX(device_->RestoreState(device), "restoring " + std::string(device_->name()));
  VK_TRY(device.Finish());
  // An interrupt raised just before the save may be missing from the saved
  // interrupt controllers (KVM injects an irqfd's write asynchronously), so
  // one the driver has not acknowledged is raised again. At worst the
  // driver sees one spurious interrupt.
  if (state_->interrupt_status.load() != 0) interrupt_->Trigger(Interrupt::Reason::kUsedBuffer);
  return Ok();
}

void MmioTransport::Read(uint64_t offset, std::span<uint8_t> data) {
  std::lock_guard lock(lock_);
  if (offset >= kConfig) {
    device_->ReadConfig(offset - kConfig, data);
    return;
  }
  // guest-controlled: registers are 32-bit; other widths read as zero.
  uint32_t value = data.size() == 4 && offset % 4 == 0 ? ReadRegister(offset) : 0;
  std::memcpy(data.data(), &value, std::min<size_t>(data.size(), 4));
  if (data.size() > 4) std::memset(data.data() + 4, 0, data.size() - 4);
}

void MmioTransport::Write(uint64_t offset, std::span<const uint8_t> data) {
  if (offset >= kConfig) {
    std::lock_guard lock(lock_);
    device_->WriteConfig(offset - kConfig, data);
    return;
  }
  if (data.size() != 4 || offset % 4 != 0) return;  // guest-controlled: ignore odd widths
  uint32_t value;
  std::memcpy(&value, data.data(), 4);
  if (offset == kMmioQueueNotify) return Notify(value);
  std::lock_guard lock(lock_);
  WriteRegister(offset, value);
}

void MmioTransport::Notify(uint32_t queue) {
  std::lock_guard lock(lock_);
  if (!state_->activated || queue >= queues_.size() || !queues_[queue].ready()) return;
  device_->ProcessQueue(queue);
}

}  // namespace vk::virtio
