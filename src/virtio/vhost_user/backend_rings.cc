// VhostUserBackend: the memory table, the rings and the device's start
// (see backend.h for the protocol rules).
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "base/log.h"
#include "virtio/vhost_user/backend.h"

namespace vk::virtio::vhost_user {
namespace {

// Used ring layout, virtio 1.2 §2.7.8: flags, then idx.
constexpr uint64_t kUsedIdxOffset = 2;

bool Overlaps(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size) {
  return a < b + b_size && b < a + a_size;  // sizes checked not to overflow
}

// One region on its own: nonzero, no address range wrapping around.
Result<void> CheckRegion(const MemoryRegion& r) {
  if (r.size == 0) return Error("empty memory region");
  uint64_t end;
  if (__builtin_add_overflow(r.guest_address, r.size, &end) ||
      __builtin_add_overflow(r.user_address, r.size, &end) ||
      __builtin_add_overflow(r.mmap_offset, r.size, &end) || end > uint64_t{INT64_MAX}) {
    return Error("memory region wraps around the address space");
  }
  return Ok();
}

// Maps [mmap_offset, mmap_offset+size) of fd shared and writable. The file
// must hold the whole range: a mapping past its end would fault (SIGBUS) on
// the first access instead of failing here.
Result<std::pair<MappedRegion, uint8_t*>> MapRegion(const MemoryRegion& r, int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Error::FromErrno("fstat memory region fd");
  if (!S_ISREG(st.st_mode)) return Error("memory region fd is not a memory file");
  if (static_cast<uint64_t>(st.st_size) < r.mmap_offset + r.size) {
    return Error("memory region extends past the end of its file");
  }
  // mmap wants a page-aligned offset; mmap_offset need not be one.
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t aligned = r.mmap_offset & ~(page - 1);
  const uint64_t lead = r.mmap_offset - aligned;
  auto mapping =
      VK_TRY(MappedRegion::File(fd, r.size + lead, /*writable=*/true, static_cast<off_t>(aligned)));
  uint8_t* host = mapping.data() + lead;
  return std::pair<MappedRegion, uint8_t*>(std::move(mapping), host);
}

}  // namespace

Result<void> VhostUserBackend::SetMemTable(const std::vector<MemoryRegion>& table,
                                           std::vector<UniqueFd>& fds) {
  if (fds.size() != table.size()) return Error("not one fd per memory region");
  for (size_t i = 0; i < table.size(); ++i) {
    VK_TRY_CTX(CheckRegion(table[i]), "region " + std::to_string(i));
    for (size_t j = 0; j < i; ++j) {
      if (Overlaps(table[i].guest_address, table[i].size, table[j].guest_address, table[j].size) ||
          Overlaps(table[i].user_address, table[i].size, table[j].user_address, table[j].size)) {
        return Error("memory regions " + std::to_string(j) + " and " + std::to_string(i) +
                     " overlap");
      }
    }
  }
  // Everything is mapped before anything is replaced: a bad table leaves
  // the current one in place.
  std::vector<Region> regions;
  std::vector<GuestMemory::Range> ranges;
  for (size_t i = 0; i < table.size(); ++i) {
    auto [mapping, host] =
        VK_TRY_CTX(MapRegion(table[i], fds[i].get()), "region " + std::to_string(i));
    ranges.push_back({table[i].guest_address, host, table[i].size});
    regions.push_back({table[i], std::move(mapping)});
  }
  // Rings point into the old mappings: stop them (the device keeps its
  // state, its queues are just not ready), swap, and restart them at the
  // same positions with their addresses translated through the new table.
  std::vector<size_t> restart;
  for (size_t i = 0; i < rings_.size(); ++i) {
    if (rings_[i].started) restart.push_back(i);
    StopRing(i);
  }
  memory_ = GuestMemory::Wrap(std::move(ranges));
  regions_ = std::move(regions);
  for (size_t i : restart) VK_TRY_CTX(StartRing(i), "restart ring " + std::to_string(i));
  return Ok();
}

Result<uint64_t> VhostUserBackend::Translate(uint64_t user_address) const {
  for (const Region& region : regions_) {
    const MemoryRegion& r = region.description;
    if (user_address >= r.user_address && user_address - r.user_address < r.size) {
      return r.guest_address + (user_address - r.user_address);
    }
  }
  return Error("front-end address outside every memory region");
}

Result<VhostUserBackend::Ring*> VhostUserBackend::RingAt(uint32_t index) {
  if (index >= rings_.size()) {
    return Error("ring " + std::to_string(index) + " out of range (the device has " +
                 std::to_string(rings_.size()) + ")");
  }
  return &rings_[index];
}

Result<void> VhostUserBackend::SetVringNum(const VringState& state) {
  Ring* ring = VK_TRY(RingAt(state.index));
  if (ring->started) return Error("SET_VRING_NUM on a started ring");
  const uint16_t max = queues_[state.index].max_size();
  // Split rings, virtio 1.2 §2.7: a power of two up to the queue's maximum.
  if (state.num == 0 || state.num > max || (state.num & (state.num - 1)) != 0) {
    return Error("ring size " + std::to_string(state.num) +
                 " is not a power of two <= " + std::to_string(max));
  }
  ring->num = static_cast<uint16_t>(state.num);
  return Ok();
}

Result<void> VhostUserBackend::SetVringAddr(const VringAddress& address) {
  Ring* ring = VK_TRY(RingAt(address.index));
  // Checked now so a bad address fails the request that carries it.
  VK_TRY_CTX(Translate(address.descriptor), "descriptor table");
  VK_TRY_CTX(Translate(address.available), "available ring");
  VK_TRY_CTX(Translate(address.used), "used ring");
  if (ring->started) {
    // Only the log flag may change on the fly; we do no dirty logging.
    const VringAddress& old = *ring->address;
    if (old.descriptor != address.descriptor || old.available != address.available ||
        old.used != address.used) {
      return Error("SET_VRING_ADDR moves a started ring");
    }
  }
  ring->address = address;
  return Ok();
}

Result<void> VhostUserBackend::SetVringBase(const VringState& state) {
  Ring* ring = VK_TRY(RingAt(state.index));
  if (ring->started) return Error("SET_VRING_BASE on a started ring");
  if (state.num > 0xffff) return Error("ring base past a 16-bit index");
  ring->base = static_cast<uint16_t>(state.num);
  return Ok();
}

Result<VringState> VhostUserBackend::GetVringBase(const VringState& state) {
  Ring* ring = VK_TRY(RingAt(state.index));
  StopRing(state.index);
  // The ring's kick fd goes with the stop: a restart brings a new one.
  ring->kick.Reset();
  return VringState{state.index, ring->base};
}

Result<void> VhostUserBackend::SetVringFd(Request request, uint64_t value,
                                          std::vector<UniqueFd>& fds) {
  if (value & ~(kVringIndexMask | kVringNoFd)) return Error("reserved bits set in vring fd");
  const uint32_t index = static_cast<uint32_t>(value & kVringIndexMask);
  Ring* ring = VK_TRY(RingAt(index));
  UniqueFd fd = fds.empty() ? UniqueFd() : std::move(fds[0]);
  switch (request) {
    case Request::kSetVringCall: ring->call = std::move(fd); return Ok();
    case Request::kSetVringErr: ring->err = std::move(fd); return Ok();
    default: break;
  }
  // SET_VRING_KICK: the no-fd form asks us to poll the ring, which we do
  // not do (nor offer; it exists for INBAND_NOTIFICATIONS).
  if (!fd) return Error("SET_VRING_KICK without an fd (polling) is not supported");
  int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    return Error::FromErrno("kick fd");
  }
  if (ring->kick) loop_->Remove(ring->kick.get());
  ring->kick = std::move(fd);
  if (ring->started) {
    VK_TRY(loop_->Add(ring->kick.get(), EPOLLIN,
                      [this, index](uint32_t events) { OnKick(index, events); }));
    return Ok();
  }
  return StartRing(index);
}

Result<void> VhostUserBackend::SetVringEnable(const VringState& state) {
  Ring* ring = VK_TRY(RingAt(state.index));
  if (state.num > 1) return Error("SET_VRING_ENABLE with a value other than 0 or 1");
  const bool was = ring->enabled;
  ring->enabled = state.num == 1;
  // Kicks that came while it was disabled were consumed, not served.
  if (!was && ring->enabled) Process(state.index);
  return Ok();
}

// "Ring states": started by SET_VRING_KICK. The rest of the ring's setup
// must be there by then.
Result<void> VhostUserBackend::StartRing(size_t index) {
  Ring& ring = rings_[index];
  Queue& queue = queues_[index];
  if (regions_.empty()) return Error("ring started before SET_MEM_TABLE");
  if (!ring.address) return Error("ring started before SET_VRING_ADDR");
  if (ring.num == 0) return Error("ring started before SET_VRING_NUM");
  queue.set_size(ring.num);
  queue.set_descriptor_table(VK_TRY(Translate(ring.address->descriptor)));
  queue.set_available_ring(VK_TRY(Translate(ring.address->available)));
  queue.set_used_ring(VK_TRY(Translate(ring.address->used)));
  queue.set_event_idx(acked_features_ & kFeatureEventIdx);
  queue.set_indirect(acked_features_ & kFeatureIndirectDesc);
  VK_TRY(queue.Validate(memory_));
  // The used index is the driver-visible truth of what was returned.
  uint16_t used = VK_TRY(memory_.Read<uint16_t>(queue.used_ring() + kUsedIdxOffset));
  const int kick = ring.kick.get();
  VK_TRY(loop_->Add(kick, EPOLLIN, [this, index](uint32_t events) { OnKick(index, events); }));
  queue.set_ready(true);
  queue.set_ring_positions(ring.base, used);
  ring.signalled_used = used;
  ring.started = true;
  if (!activated_) return MaybeActivate();
  Process(index);  // a restart: serve what was added while stopped
  return Ok();
}

void VhostUserBackend::StopRing(size_t index) {
  Ring& ring = rings_[index];
  if (!ring.started) return;
  if (ring.kick) loop_->Remove(ring.kick.get());
  ring.base = queues_[index].next_avail();
  queues_[index].set_ready(false);
  ring.started = false;
}

Result<void> VhostUserBackend::MaybeActivate() {
  if (activated_) return Ok();
  for (const Ring& ring : rings_) {
    if (!ring.started) return Ok();
  }
  DeviceContext context;
  context.memory = &memory_;
  context.queues = queues_;
  context.interrupt = interrupt_.get();
  context.loop = loop_;
  context.lock = &lock_;
  context.driver_features = acked_features_ & ~kFeatureProtocolFeatures;
  VK_TRY_CTX(device_->Activate(context), "activate " + std::string(device_->name()));
  activated_ = true;
  // Kicks written before we watched the fds would otherwise go unserved.
  for (size_t i = 0; i < rings_.size(); ++i) Process(i);
  return Ok();
}

void VhostUserBackend::Process(size_t index) {
  const Ring& ring = rings_[index];
  if (activated_ && ring.started && ring.enabled) device_->ProcessQueue(index);
}

void VhostUserBackend::OnKick(size_t index, uint32_t events) {
  Ring& ring = rings_[index];
  if (events & (EPOLLERR | EPOLLHUP)) {
    // Not an eventfd (a pipe whose writer closed): it would wake us forever.
    log::Warn("{}: vhost-user: kick fd of ring {} hung up", device_->name(), index);
    loop_->Remove(ring.kick.get());
    return;
  }
  uint8_t drain[64];
  while (::read(ring.kick.get(), drain, sizeof(drain)) > 0) {
  }
  std::lock_guard lock(lock_);
  Process(index);
}

void VhostUserBackend::SignalUsed() {
  for (size_t i = 0; i < rings_.size(); ++i) {
    Ring& ring = rings_[i];
    if (!ring.started || !ring.call) continue;
    auto used = memory_.Read<uint16_t>(queues_[i].used_ring() + kUsedIdxOffset);
    if (!used.ok() || *used == ring.signalled_used) continue;
    ring.signalled_used = *used;
    const uint64_t one = 1;
    ssize_t written = ::write(ring.call.get(), &one, sizeof(one));
    (void)written;  // a full eventfd counter already signals
  }
}

}  // namespace vk::virtio::vhost_user
