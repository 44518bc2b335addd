#include "virtio/vhost_user/backend.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <string>

#include "base/log.h"

namespace vk::virtio::vhost_user {
namespace {

// Split rings hold at most 32768 entries (virtio 1.2 §2.7).
constexpr uint16_t kMaxRingSize = 32768;

// A front end stalled in the middle of a message would stall the loop (the
// rest of a message is read blocking once its first byte is in): bound it.
constexpr time_t kMessageTimeoutSeconds = 5;

// Requests we do not serve whose definition has a reply: the front end
// waits for it, so leaving them unanswered would hang it.
bool UnsupportedExpectsReply(uint32_t request) {
  switch (static_cast<Request>(request)) {
    case Request::kGetInflightFd:
    case Request::kGetMaxMemSlots:
    case Request::kGetStatus: return true;
    default: return false;
  }
}

Reply U64Reply(uint32_t request, uint64_t value) { return Reply{request, EncodeU64(value)}; }

}  // namespace

// The device's Interrupt: writes the call eventfd of each ring whose used
// index moved since its last signal (the device's Trigger names no queue,
// and a signal on an idle queue's vector would count as a spurious
// interrupt in the guest). Runs with the device lock held.
class VhostUserBackend::CallInterrupt : public Interrupt {
 public:
  explicit CallInterrupt(VhostUserBackend* backend) : backend_(backend) {}
  void Trigger(Reason reason) override {
    if (reason == Reason::kConfigChange) {
      // Needs VHOST_USER_PROTOCOL_F_BACKEND_REQ (CONFIG_CHANGE_MSG), which
      // we do not offer.
      log::WarnLimited(backend_->device_->name(), "{}: vhost-user: config change not delivered",
                       backend_->device_->name());
      return;
    }
    backend_->SignalUsed();
  }

 private:
  VhostUserBackend* backend_;  // non-owning; owns this
};

VhostUserBackend::VhostUserBackend(std::unique_ptr<VirtioDevice> device, EventLoop* loop)
    : device_(std::move(device)), loop_(loop), interrupt_(std::make_unique<CallInterrupt>(this)) {
  // The front end picks each ring's size (it tells its driver the maximum,
  // QEMU's virtio-mmio says 1024): any split-ring size is accepted, not
  // just what the device would offer behind our own transport.
  // Only the rings the front end hands over exist here (vsock: rx and tx).
  for (size_t i = 0; i < device_->vhost_user_queue_count(); ++i) queues_.emplace_back(kMaxRingSize);
  rings_.resize(queues_.size());
}

VhostUserBackend::~VhostUserBackend() {
  if (connection_) loop_->Remove(connection_.get());
  connection_.Reset();
  std::lock_guard lock(lock_);
  ForgetState(Forget::kEverything);
}

uint64_t VhostUserBackend::OfferedFeatures() const {
  return device_->features() | kFeatureVersion1 | kFeatureEventIdx | kFeatureIndirectDesc |
         kFeatureProtocolFeatures;
}

Result<void> VhostUserBackend::Serve(UniqueFd connection, std::function<void()> on_closed) {
  if (connection_) return Error("vhost-user back end already serves a front end");
  timeval timeout{kMessageTimeoutSeconds, 0};
  if (::setsockopt(connection.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) != 0 ||
      ::setsockopt(connection.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout)) != 0) {
    return Error::FromErrno("vhost-user socket timeouts");
  }
  int fd = connection.get();
  VK_TRY(loop_->Add(fd, EPOLLIN, [this](uint32_t events) { OnReadable(events); }));
  connection_ = std::move(connection);
  on_closed_ = std::move(on_closed);
  return Ok();
}

void VhostUserBackend::OnReadable(uint32_t events) {
  if (!(events & EPOLLIN)) return CloseConnection();  // HUP/ERR with nothing to read
  auto message = ReadMessage(connection_.get());
  if (!message.ok()) {
    log::Warn("{}: {}; closing the connection", device_->name(), message.error().message());
    return CloseConnection();
  }
  if (!message->has_value()) return CloseConnection();  // front end went away
  auto reply = Handle(std::move(**message));
  if (!reply.ok()) {
    log::Warn("{}: vhost-user: {}; closing the connection", device_->name(),
              reply.error().message());
    return CloseConnection();
  }
  if (reply->has_value()) {
    auto written = WriteReply(connection_.get(), **reply);
    if (!written.ok()) {
      log::Warn("{}: vhost-user: {}", device_->name(), written.error().message());
      return CloseConnection();
    }
  }
}

void VhostUserBackend::CloseConnection() {
  auto on_closed = std::exchange(on_closed_, {});
  Disconnect();
  if (on_closed) on_closed();
}

void VhostUserBackend::Disconnect() {
  on_closed_ = {};
  if (connection_) loop_->Remove(connection_.get());
  connection_.Reset();
  std::lock_guard lock(lock_);
  ForgetState(Forget::kEverything);
}

Result<std::optional<Reply>> VhostUserBackend::Handle(Message message) {
  std::lock_guard lock(lock_);
  const uint32_t request = message.request;
  std::vector<UniqueFd> fds = std::move(message.fds);
  if (std::holds_alternative<UnknownPayload>(message.payload) && UnsupportedExpectsReply(request)) {
    return Error("unsupported request " + std::to_string(request) + " expects a reply");
  }
  auto reply = Dispatch(message, fds);
  const bool ack = message.need_reply() && (acked_protocol_features_ & kProtocolFeatureReplyAck) &&
                   !HasOwnReply(request);
  if (!reply.ok()) {
    log::Warn("{}: vhost-user request {}: {}", device_->name(), request, reply.error().message());
    if (HasOwnReply(request)) return std::move(reply).error();  // it must answer something
    if (ack) return std::optional<Reply>(U64Reply(request, 1));
    return std::optional<Reply>();
  }
  if (ack) return std::optional<Reply>(U64Reply(request, 0));
  return std::move(*reply);
}

Result<std::optional<Reply>> VhostUserBackend::Dispatch(const Message& message,
                                                        std::vector<UniqueFd>& fds) {
  using R = std::optional<Reply>;
  const uint32_t code = message.request;
  const Payload& p = message.payload;
  switch (static_cast<Request>(code)) {
    case Request::kGetFeatures: return R(U64Reply(code, OfferedFeatures()));
    case Request::kSetFeatures: VK_TRY(SetFeatures(std::get<uint64_t>(p))); return R();
    case Request::kGetProtocolFeatures: return R(U64Reply(code, offered_protocol_features_));
    case Request::kSetProtocolFeatures:
      VK_TRY(SetProtocolFeatures(std::get<uint64_t>(p)));
      return R();
    case Request::kGetQueueNum: return R(U64Reply(code, queues_.size()));
    case Request::kSetOwner: return R();
    case Request::kResetOwner:
    case Request::kResetDevice: ForgetState(Forget::kRings); return R();
    case Request::kSetMemTable:
      VK_TRY(SetMemTable(std::get<std::vector<MemoryRegion>>(p), fds));
      return R();
    case Request::kSetVringNum: VK_TRY(SetVringNum(std::get<VringState>(p))); return R();
    case Request::kSetVringAddr: VK_TRY(SetVringAddr(std::get<VringAddress>(p))); return R();
    case Request::kSetVringBase: VK_TRY(SetVringBase(std::get<VringState>(p))); return R();
    case Request::kGetVringBase: {
      VringState state = VK_TRY(GetVringBase(std::get<VringState>(p)));
      return R(Reply{code, EncodeVringState(state)});
    }
    case Request::kSetVringKick:
    case Request::kSetVringCall:
    case Request::kSetVringErr:
      VK_TRY(SetVringFd(static_cast<Request>(code), std::get<uint64_t>(p), fds));
      return R();
    case Request::kSetVringEnable: VK_TRY(SetVringEnable(std::get<VringState>(p))); return R();
    case Request::kGetConfig: return R(GetConfig(code, std::get<ConfigSpace>(p)));
    case Request::kSetConfig: VK_TRY(SetConfig(std::get<ConfigSpace>(p))); return R();
    default: return Error("unsupported request");
  }
}

Result<void> VhostUserBackend::SetFeatures(uint64_t features) {
  if (features & ~OfferedFeatures()) return Error("features never offered");
  std::vector<size_t> restart;
  if (activated_ && features != acked_features_) {
    // The device runs with the old features: reset it and start it again
    // with the new ones (QEMU only sets features while every ring is
    // stopped, between vhost_dev_stop and vhost_dev_start, so this is rare).
    for (size_t i = 0; i < rings_.size(); ++i) {
      if (rings_[i].started) restart.push_back(i);
      StopRing(i);
    }
    device_->Reset();
    activated_ = false;
  }
  acked_features_ = features;
  // "Ring states": without VHOST_USER_F_PROTOCOL_FEATURES rings are enabled
  // as they start; SET_FEATURES never disables one.
  if (!(features & kFeatureProtocolFeatures)) {
    for (Ring& ring : rings_) ring.enabled = true;
  }
  for (size_t i : restart) VK_TRY_CTX(StartRing(i), "restart ring " + std::to_string(i));
  return Ok();
}

Result<void> VhostUserBackend::SetProtocolFeatures(uint64_t features) {
  if (features & ~offered_protocol_features_) return Error("protocol features never offered");
  acked_protocol_features_ = features;
  return Ok();
}

Reply VhostUserBackend::GetConfig(uint32_t request, const ConfigSpace& config) {
  ConfigSpace out;
  out.offset = config.offset;
  out.flags = config.flags;
  // Out of range: an empty config reply, which the front end takes as a
  // failure (its size does not match the request's).
  if (uint64_t{config.offset} + config.data.size() <= kMaxConfigBytes) {
    out.data.resize(config.data.size());
    device_->ReadConfig(config.offset, out.data);
  }
  return Reply{request, EncodeConfig(out)};
}

Result<void> VhostUserBackend::SetConfig(const ConfigSpace& config) {
  if (uint64_t{config.offset} + config.data.size() > kMaxConfigBytes) {
    return Error("config write past 256 bytes");
  }
  device_->WriteConfig(config.offset, config.data);
  return Ok();
}

void VhostUserBackend::ForgetState(Forget what) {
  if (activated_) device_->Reset();
  activated_ = false;
  for (size_t i = 0; i < rings_.size(); ++i) {
    Ring& ring = rings_[i];
    if (ring.kick) loop_->Remove(ring.kick.get());
    queues_[i].Reset();
    ring = Ring{};
  }
  memory_ = GuestMemory();
  regions_.clear();
  acked_features_ = 0;
  if (what == Forget::kEverything) acked_protocol_features_ = 0;
}

}  // namespace vk::virtio::vhost_user
