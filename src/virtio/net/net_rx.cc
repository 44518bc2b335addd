// virtio-net receive path (virtio 1.2 §5.1.6.3, §5.1.6.4): frames queued by
// Deliver() are copied into the guest's rx buffers, one chain per frame, or
// spread over several chains with VIRTIO_NET_F_MRG_RXBUF.
#include "base/log.h"
#include "virtio/net/net_device.h"

namespace vk::virtio {
namespace {

constexpr size_t kRxQueue = 0;
constexpr size_t kEthHeader = 14;

}  // namespace

bool NetDevice::Deliver(std::span<const uint8_t> frame) {
  // §5.1.4.2: never hand the driver a frame larger than MTU + link header.
  if (frame.size() < kEthHeader || frame.size() > MaxFrameLength()) {
    ++counters_.rx_dropped;
    return false;
  }
  std::lock_guard lock(rx_mutex_);
  if (!rx_accepting_ || rx_pending_.size() >= options_.rx_queue_frames ||
      rx_pending_bytes_ + frame.size() > options_.rx_queue_bytes) {
    ++counters_.rx_dropped;
    return false;
  }
  rx_pending_.emplace_back(frame.begin(), frame.end());
  rx_pending_bytes_ += frame.size();
  ScheduleFlushLocked();
  return true;
}

// Deliver() may run on any thread, even inside our own ProcessQueue() (a
// backend answering synchronously), so it never takes the device lock
// itself: it posts one flush to the device loop per batch of frames.
void NetDevice::ScheduleFlushLocked() {
  if (flush_posted_ || rx_loop_ == nullptr) return;
  flush_posted_ = true;
  std::weak_ptr<NetDevice*> alive = alive_;
  std::mutex* device_lock = rx_device_lock_;
  rx_loop_->Post([alive, device_lock] {
    std::shared_ptr<NetDevice*> self = alive.lock();
    if (!self) return;
    std::lock_guard lock(*device_lock);
    (*self)->FlushRx();
  });
}

void NetDevice::FlushRx() {
  if (!active_) return;
  rx_pushed_ = false;
  {
    std::lock_guard lock(rx_mutex_);
    flush_posted_ = false;
    while (!rx_pending_.empty()) {
      const std::vector<uint8_t>& frame = rx_pending_.front();
      Placement placement = PlaceFrame(frame);
      if (placement == Placement::kNoBuffers) break;  // resumes on the next rx notify
      if (placement == Placement::kPlaced) {
        ++counters_.rx_frames;
        counters_.rx_bytes += frame.size();
      } else {
        ++counters_.rx_dropped;
      }
      rx_pending_bytes_ -= frame.size();
      rx_pending_.pop_front();
    }
  }
  Queue& queue = context_.queues[kRxQueue];
  if (rx_pushed_ && queue.NeedsInterrupt(memory())) {
    context_.interrupt->Trigger(Interrupt::Reason::kUsedBuffer);
  }
}

NetDevice::Placement NetDevice::PlaceFrame(std::span<const uint8_t> frame) {
  size_t need = vnet::kNetHeaderSize + frame.size();
  bool mergeable = Negotiated(vnet::kFeatureMrgRxBuf);
  if (!CollectRxChains(mergeable ? need : 1)) {
    // A mergeable frame needing more chains than the ring can ever hold
    // (tiny buffers) would stall the queue forever: drop it instead.
    size_t ring = context_.queues[kRxQueue].size();
    return rx_chains_.size() >= ring ? Placement::kDropped : Placement::kNoBuffers;
  }
  // Without MRG_RXBUF the whole frame must fit one chain (§5.1.6.3.1). A
  // chain too small for this frame stays ours for the next, smaller one.
  if (!mergeable && rx_chains_.front().writable_bytes() < need) return Placement::kDropped;
  // §5.1.6.4: num_buffers is the number of chains the frame occupies.
  vnet::NetHeader header{};
  header.num_buffers = 0;
  uint64_t room = 0;
  for (const DescriptorChain& chain : rx_chains_) {
    ++header.num_buffers;
    room += chain.writable_bytes();
    if (room >= need) break;
  }
  size_t offset = 0;
  for (uint16_t i = 0; i < header.num_buffers; ++i) {
    DescriptorChain chain = std::move(rx_chains_.front());
    rx_chains_.pop_front();
    rx_chain_bytes_ -= chain.writable_bytes();
    ChainWriter writer(memory(), chain);
    bool ok = i > 0 || writer.Write(header).ok();
    size_t n = std::min<uint64_t>(writer.remaining(), frame.size() - offset);
    ok = ok && writer.Write(frame.subspan(offset, n)).ok();
    offset += n;
    ReturnRxChain(std::move(chain), ok ? static_cast<uint32_t>(writer.written()) : 0);
  }
  return Placement::kPlaced;
}

// Pops rx chains until the held ones offer `bytes` (MRG_RXBUF) or at least
// one chain is held; false when the ring runs dry first.
bool NetDevice::CollectRxChains(size_t bytes) {
  bool mergeable = Negotiated(vnet::kFeatureMrgRxBuf);
  Queue& queue = context_.queues[kRxQueue];
  // Chains held from before the driver turned the queue off (or reset it)
  // belong to a ring that no longer exists: forget them (Push refuses them).
  if (!rx_chains_.empty() && !queue.Owns(rx_chains_.front())) {
    std::erase_if(rx_chains_, [&](const DescriptorChain& chain) { return !queue.Owns(chain); });
    rx_chain_bytes_ = 0;
    for (const DescriptorChain& chain : rx_chains_) rx_chain_bytes_ += chain.writable_bytes();
  }
  if (rx_chains_.empty()) rx_gap_ = false;
  auto enough = [&] { return mergeable ? rx_chain_bytes_ >= bytes : !rx_chains_.empty(); };
  // Bounded: a broken avail index makes Pop() fail without consuming.
  for (size_t errors = 0; !enough() && rx_chains_.size() < queue.size();) {
    auto popped = queue.Pop(memory());
    if (!popped.ok()) {  // malformed; Pop returned its head, if it had one
      log::Debug("virtio-net: {}", popped.error().message());
      rx_pushed_ = true;
      rx_gap_ = rx_gap_ || !rx_chains_.empty();
      if (++errors > queue.size()) return false;
      continue;
    }
    if (!popped->has_value()) return false;
    DescriptorChain chain = std::move(**popped);
    // guest-controlled: a buffer that cannot hold the header is useless
    // (§5.1.6.3.1 requires at least the header size); give it back empty.
    if (chain.writable_bytes() < vnet::kNetHeaderSize) {
      rx_gap_ = rx_gap_ || !rx_chains_.empty();
      ReturnRxChain(std::move(chain), 0);
      continue;
    }
    rx_chain_bytes_ += chain.writable_bytes();
    rx_chains_.push_back(std::move(chain));
  }
  return enough();
}

void NetDevice::ReturnRxChain(DescriptorChain chain, uint32_t written) {
  auto pushed = context_.queues[kRxQueue].Push(memory(), std::move(chain), written);
  (void)pushed;  // the used ring was validated on activation
  rx_pushed_ = true;
}

// Snapshots: the rx buffers we hold go back to the ring (Queue::Unpop), so
// the restored device pops them again, in the same order. When they are
// not the last chains popped (rx_gap_), rewinding would hand the guest's
// already-returned buffers back to the device: they are returned empty
// instead, which the driver treats as a short frame and reposts.
void NetDevice::GiveBackRxChains() {
  if (!active_) return;
  Queue& queue = context_.queues[kRxQueue];
  std::erase_if(rx_chains_, [&](const DescriptorChain& chain) { return !queue.Owns(chain); });
  if (!rx_gap_) {
    queue.Unpop(static_cast<uint16_t>(rx_chains_.size()));
  } else {
    rx_pushed_ = false;
    for (DescriptorChain& chain : rx_chains_) ReturnRxChain(std::move(chain), 0);
    if (rx_pushed_ && queue.NeedsInterrupt(memory())) {
      context_.interrupt->Trigger(Interrupt::Reason::kUsedBuffer);
    }
  }
  rx_chains_.clear();
  rx_chain_bytes_ = 0;
  rx_gap_ = false;
}

}  // namespace vk::virtio
