// virtio-net: lifecycle, configuration space and the transmit path. The
// receive path is in net_rx.cc.
#include "virtio/net/net_device.h"

#include <cstring>

#include "base/log.h"
#include "virtio/net/offload.h"
#include "virtio/queue_drain.h"

namespace vk::virtio {
namespace {

constexpr size_t kTxQueue = 1;
constexpr size_t kEthHeader = 14;
constexpr size_t kVlanTag = 4;    // one 802.1Q tag on top of the MTU
constexpr uint16_t kMinMtu = 68;  // RFC 791: every host must take 68-byte datagrams

}  // namespace

Result<std::unique_ptr<NetDevice>> NetDevice::Create(const NetOptions& options) {
  if (options.mtu < kMinMtu) return Error("virtio-net: MTU must be at least 68");
  if (options.rx_queue_frames == 0 || options.rx_queue_bytes < net::kMaxFrame) {
    return Error("virtio-net: the rx queue must hold at least one maximum-size frame");
  }
  if (options.mac[0] & 1) return Error("virtio-net: the MAC address must be unicast");
  return std::unique_ptr<NetDevice>(new NetDevice(options));
}

NetDevice::NetDevice(const NetOptions& options)
    : options_(options), alive_(std::make_shared<NetDevice*>(this)) {}

NetDevice::~NetDevice() { alive_.reset(); }

NetCounters NetDevice::counters() const {
  NetCounters c;
  c.rx_frames = counters_.rx_frames, c.rx_bytes = counters_.rx_bytes;
  c.rx_dropped = counters_.rx_dropped;
  c.tx_frames = counters_.tx_frames, c.tx_bytes = counters_.tx_bytes;
  c.tx_dropped = counters_.tx_dropped;
  return c;
}

uint64_t NetDevice::features() const {
  using namespace vnet;
  return kFeatureCsum | kFeatureGuestCsum | kFeatureMtu | kFeatureMac | kFeatureHostTso4 |
         kFeatureMrgRxBuf | kFeatureStatus;
}

void NetDevice::ReadConfig(uint64_t offset, std::span<uint8_t> data) {
  // struct virtio_net_config (virtio 1.2 §5.1.4), little-endian fields.
  uint8_t config[vnet::kConfigSize] = {};
  std::memcpy(config + vnet::kConfigMac, options_.mac.data(), 6);
  uint16_t status = vnet::kStatusLinkUp, pairs = 1, mtu = options_.mtu;
  uint32_t speed = UINT32_MAX;  // VIRTIO_NET_SPEED_UNKNOWN
  std::memcpy(config + vnet::kConfigStatus, &status, 2);
  std::memcpy(config + vnet::kConfigMaxQueuePairs, &pairs, 2);
  std::memcpy(config + vnet::kConfigMtu, &mtu, 2);
  std::memcpy(config + vnet::kConfigSpeed, &speed, 4);
  config[vnet::kConfigDuplex] = 0xff;  // VIRTIO_NET_DUPLEX_UNKNOWN
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = offset + i < sizeof(config) ? config[offset + i] : 0;
  }
}

Result<void> NetDevice::Activate(const DeviceContext& context) {
  context_ = context;
  active_ = true;
  std::lock_guard lock(rx_mutex_);
  rx_accepting_ = true;
  rx_loop_ = context.loop;
  rx_device_lock_ = context.lock;
  return Ok();
}

void NetDevice::Reset() {
  active_ = false;
  rx_chains_.clear();  // the driver reclaims every buffer on reset (§2.4)
  rx_chain_bytes_ = 0;
  rx_gap_ = false;
  std::lock_guard lock(rx_mutex_);
  rx_accepting_ = false;
  rx_pending_.clear();
  rx_pending_bytes_ = 0;
  flush_posted_ = false;
}

Result<void> NetDevice::SaveState(StateWriter& out) {
  GiveBackRxChains();
  out.BeginRecord("net", 1);
  std::lock_guard lock(rx_mutex_);
  out.U32(static_cast<uint32_t>(rx_pending_.size()));
  for (const std::vector<uint8_t>& frame : rx_pending_) out.Bytes(frame);
  return Ok();
}

Result<void> NetDevice::RestoreState(StateReader& in) {
  VK_TRY(in.ExpectRecord("net", 1));
  uint32_t count = VK_TRY(in.U32());
  for (uint32_t i = 0; i < count; ++i) {
    // Untrusted like any frame: Deliver applies the MTU and queue bounds
    // (and drops what does not fit, as a full NIC ring would).
    std::vector<uint8_t> frame = VK_TRY(in.Bytes());
    Deliver(frame);
  }
  return Ok();
}

void NetDevice::ProcessQueue(size_t index) {
  if (!active_) return;
  if (index == kTxQueue) ProcessTx();
  // rx buffers arrived (queue 0), or a backend answered synchronously while
  // we transmitted (queue 1): either way frames may be waiting.
  FlushRx();
}

size_t NetDevice::MaxFrameLength() const { return kEthHeader + kVlanTag + options_.mtu; }

// --- guest -> backend (virtio 1.2 §5.1.6.2) ---

void NetDevice::ProcessTx() {
  DrainQueue(context_, kTxQueue, name(), [this](const DescriptorChain& chain) {
    HandleTxChain(chain);
    return 0u;  // tx buffers are read-only
  });
}

void NetDevice::HandleTxChain(const DescriptorChain& chain) {
  // guest-controlled: the header and the frame length. Both are copied out
  // before they are checked, so the guest cannot change them underneath us.
  ChainReader reader(memory(), chain);
  auto header = reader.Read<vnet::NetHeader>();
  if (!header.ok()) return DropTx("chain shorter than the 12-byte header");
  uint64_t length = reader.remaining();
  if (length < kEthHeader || length > net::kMaxFrame) return DropTx("bad frame length");
  tx_frame_.resize(length);
  if (!reader.Read(tx_frame_).ok()) return DropTx("unreadable frame");
  SendFrame(tx_frame_, *header);
}

void NetDevice::SendFrame(std::span<uint8_t> frame, const vnet::NetHeader& header) {
  if (header.gso_type == vnet::kGsoNone) {
    // §5.1.4.2: the driver must not send more than MTU plus the link header.
    if (frame.size() > MaxFrameLength()) return DropTx("frame larger than the MTU");
    if ((header.flags & vnet::kHeaderNeedsCsum) &&
        !vnet::CompleteChecksum(frame, header.csum_start, header.csum_offset)) {
      return DropTx("checksum offsets outside the frame");
    }
    return ToBackend(frame);
  }
  // Only TCPv4 is offered (HOST_TSO4; no HOST_ECN, TSO6 or UFO).
  if (header.gso_type != vnet::kGsoTcpV4 || !Negotiated(vnet::kFeatureHostTso4)) {
    return DropTx("unsupported gso_type");
  }
  bool segmented = vnet::SegmentTcpV4(frame, header.gso_size, tx_segment_,
                                      [this](std::span<const uint8_t> s) { ToBackend(s); });
  if (!segmented) DropTx("malformed TCPv4 GSO frame");
}

void NetDevice::ToBackend(std::span<const uint8_t> frame) {
  if (backend_ == nullptr || !backend_->Deliver(frame)) {
    ++counters_.tx_dropped;
    return;
  }
  ++counters_.tx_frames;
  counters_.tx_bytes += frame.size();
}

void NetDevice::DropTx(std::string_view why) {
  ++counters_.tx_dropped;
  // Debug only: a guest could otherwise flood the VM log.
  log::Debug("virtio-net: dropped a tx frame: {}", why);
}

}  // namespace vk::virtio
