// Test/bench harness: plays a vhost-user front end (QEMU's part) against a
// VhostUserBackend, so tests, the benchmark and other tools share one fake
// front end instead of each writing their own.
//
//   SharedMemory memory(16 << 20);               // memfd "guest RAM", mapped here
//   DriverRing ring(memory, 0x10000, 8);         // one split ring inside it
//   RingFds fds;                                 // its kick and call eventfds
//   FakeFrontEnd front(std::move(socket));       // back end on its own thread
//   front.Negotiate(kFeatureVersion1 | kFeatureProtocolFeatures);
//   front.SetMemTable(memory);
//   front.StartRing(0, ring, fds);
//   front.EnableRing(0);
//   auto used = front.Call(ring, fds, {{request, n}}, {{reply, 4096}});
//
// Two ways to run the back end's EventLoop: on this thread (pass `loop`:
// every message sent and every kick turns it once, replies are read without
// waiting, as unit tests want), or on a thread of its own (no loop: replies
// and call signals are waited for, with a timeout).
//
// Nothing here uses gtest: failures (a send that fails, a reply with the
// wrong flags, no reply in time) go to `on_error`, which tests point at
// ADD_FAILURE and which by default prints them to stderr.
#pragma once

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/event_loop.h"
#include "base/result.h"
#include "base/unique_fd.h"
#include "base/unix_socket.h"
#include "virtio/vhost_user/backend.h"
#include "virtio/vhost_user/message.h"

namespace vk::virtio::vhost_user::testing {

inline UniqueFd MemFd(uint64_t size) {
  UniqueFd fd(::memfd_create("vhost-user-fake-front-end", MFD_CLOEXEC));
  if (!fd || ::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) std::abort();
  return fd;
}

// "Guest RAM" the way QEMU shares it: a memfd mapped MAP_SHARED in this
// process. Guest-physical addresses start at 0; the front-end virtual
// address of guest address A (what SET_MEM_TABLE and SET_VRING_ADDR carry)
// is where A is mapped here.
class SharedMemory {
 public:
  explicit SharedMemory(uint64_t bytes) : fd_(MemFd(bytes)), size_(bytes) {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(), 0);
    if (p == MAP_FAILED) std::abort();
    base_ = static_cast<uint8_t*>(p);
  }
  SharedMemory(const SharedMemory&) = delete;
  SharedMemory& operator=(const SharedMemory&) = delete;
  ~SharedMemory() { ::munmap(base_, size_); }

  int fd() const { return fd_.get(); }
  uint64_t size() const { return size_; }
  uint8_t* host(uint64_t gpa) const { return base_ + gpa; }
  uint64_t user_address(uint64_t gpa = 0) const { return reinterpret_cast<uint64_t>(base_) + gpa; }
  // The one-region table describing all of it.
  MemoryRegion region() const { return {0, size_, user_address(), 0}; }

  // Bump allocator over the memory (never frees), for callers that do not
  // lay it out by hand.
  uint64_t Alloc(uint64_t bytes, uint64_t align = 16) {
    next_ = (next_ + align - 1) & ~(align - 1);
    uint64_t at = next_;
    next_ += bytes;
    if (next_ > size_) std::abort();
    return at;
  }
  void Write(uint64_t gpa, std::span<const uint8_t> bytes) {
    if (!bytes.empty()) std::memcpy(host(gpa), bytes.data(), bytes.size());
  }
  std::vector<uint8_t> Read(uint64_t gpa, size_t bytes) const {
    return std::vector<uint8_t>(host(gpa), host(gpa) + bytes);
  }

 private:
  UniqueFd fd_;
  uint64_t size_;
  uint8_t* base_ = nullptr;
  uint64_t next_ = 0x1000;
};

// A guest buffer: guest-physical address and length.
struct Buffer {
  uint64_t address = 0;
  uint32_t length = 0;
};

struct UsedElement {
  uint32_t id = 0;
  uint32_t length = 0;
};

// The driver side of one split ring (virtio 1.2 §2.7) in shared memory, by
// hand: from `base`, the descriptor table, the available ring and the used
// ring, each on its own page(s), then one page of buffers per descriptor
// for AddChain(bytes, writable). Footprint(size) bytes in all.
class DriverRing {
 public:
  static constexpr uint16_t kNext = 1, kWrite = 2;
  static constexpr uint64_t kPage = 0x1000;
  static constexpr uint64_t kSlotBytes = kPage;  // per descriptor, read half + write half

  DriverRing(SharedMemory& memory, uint64_t base, uint16_t size)
      : memory_(&memory), size_(size), desc_(base) {
    avail_ = desc_ + PageAlign(16ull * size);
    used_ = avail_ + PageAlign(6 + 2ull * size);
    slots_ = used_ + PageAlign(6 + 8ull * size);
  }
  static uint64_t Footprint(uint16_t size) {
    return PageAlign(16ull * size) + PageAlign(6 + 2ull * size) + PageAlign(6 + 8ull * size) +
           kSlotBytes * size;
  }

  uint16_t size() const { return size_; }
  // Guest-physical addresses of the three parts.
  uint64_t desc() const { return desc_; }
  uint64_t avail() const { return avail_; }
  uint64_t used() const { return used_; }
  // SET_VRING_ADDR's payload: the same parts as front-end virtual addresses.
  VringAddress Address(uint32_t index) const {
    return {index,
            0,
            memory_->user_address(desc_),
            memory_->user_address(used_),
            memory_->user_address(avail_),
            0};
  }

  // A chain of readable then writable buffers (in descriptors following the
  // previous chain's), published in the available ring. Returns its head.
  uint16_t AddChain(std::span<const Buffer> readable, std::span<const Buffer> writable) {
    const size_t count = readable.size() + writable.size();
    if (count == 0 || count > size_) std::abort();
    const uint16_t head = static_cast<uint16_t>(next_desc_ % size_);
    for (size_t i = 0; i < count; ++i) {
      const uint16_t index = static_cast<uint16_t>(next_desc_++ % size_);
      const bool is_writable = i >= readable.size();
      const Buffer& buffer = is_writable ? writable[i - readable.size()] : readable[i];
      const bool last = i + 1 == count;
      SetDesc(index, buffer.address, buffer.length,
              static_cast<uint16_t>((is_writable ? kWrite : 0) | (last ? 0 : kNext)),
              last ? 0 : static_cast<uint16_t>(next_desc_ % size_));
    }
    if (!writable.empty()) writable_[head] = writable.front().address;
    Publish(head);
    return head;
  }
  // One readable buffer holding `bytes` and one writable of `writable`
  // bytes, both in the head descriptor's slot (at most half a page each).
  uint16_t AddChain(std::span<const uint8_t> bytes, uint32_t writable) {
    const uint64_t in = slots_ + (next_desc_ % size_) * kSlotBytes;
    const uint64_t out = in + kSlotBytes / 2;
    if (bytes.size() > kSlotBytes / 2 || writable > kSlotBytes / 2) std::abort();
    memory_->Write(in, bytes);
    const Buffer readable[] = {{in, static_cast<uint32_t>(bytes.size())}};
    const Buffer written[] = {{out, writable}};
    return AddChain(readable, written);
  }

  uint16_t UsedIdx() const {
    std::atomic_thread_fence(std::memory_order_acquire);
    return Load16(used_ + 2);
  }
  UsedElement UsedElem(uint16_t i) const {
    UsedElement element;
    std::memcpy(&element.id, memory_->host(used_ + 4 + 8 * (i % size_)), 4);
    std::memcpy(&element.length, memory_->host(used_ + 8 + 8 * (i % size_)), 4);
    return element;
  }
  // The next used element not returned yet, if the device has put one.
  std::optional<UsedElement> NextUsed() {
    if (UsedIdx() == last_used_) return std::nullopt;
    return UsedElem(last_used_++);
  }
  // The first `n` bytes of the first writable buffer of the chain at `head`.
  std::vector<uint8_t> Written(uint16_t head, size_t n) const {
    return memory_->Read(writable_.at(head), n);
  }

 private:
  static uint64_t PageAlign(uint64_t bytes) { return (bytes + kPage - 1) & ~(kPage - 1); }
  void SetDesc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
    uint8_t* d = memory_->host(desc_ + 16ull * i);
    std::memcpy(d, &addr, 8);
    std::memcpy(d + 8, &len, 4);
    std::memcpy(d + 12, &flags, 2);
    std::memcpy(d + 14, &next, 2);
  }
  void Publish(uint16_t head) {
    uint16_t idx = Load16(avail_ + 2);
    std::memcpy(memory_->host(avail_ + 4 + 2 * (idx % size_)), &head, 2);
    ++idx;
    // The ring entry (and the descriptors) before the index (§2.7.13).
    std::atomic_thread_fence(std::memory_order_release);
    std::memcpy(memory_->host(avail_ + 2), &idx, 2);
  }
  uint16_t Load16(uint64_t at) const {
    uint16_t v;
    std::memcpy(&v, memory_->host(at), 2);
    return v;
  }

  SharedMemory* memory_;  // non-owning; outlives the ring
  uint16_t size_;
  uint64_t desc_, avail_ = 0, used_ = 0, slots_ = 0;
  uint16_t next_desc_ = 0;
  uint16_t last_used_ = 0;
  std::map<uint16_t, uint64_t> writable_;
};

// A ring's kick and call eventfds (non-blocking, as the back end drains the
// kick fd until it would block).
class RingFds {
 public:
  RingFds()
      : kick_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
        call_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (!kick_ || !call_) std::abort();
  }
  int kick() const { return kick_.get(); }
  int call() const { return call_.get(); }

  void Kick() const {
    const uint64_t one = 1;
    if (::write(kick_.get(), &one, 8) != 8) std::abort();
  }
  // Reads (and clears) the call counter; 0 when not signalled.
  uint64_t TakeCalls() const {
    uint64_t count = 0;
    return ::read(call_.get(), &count, 8) == 8 ? count : 0;
  }
  // Waits up to timeout_ms for a call signal and clears it.
  bool WaitCall(int timeout_ms) const {
    pollfd p{call_.get(), POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) return false;
    return TakeCalls() != 0;
  }

 private:
  UniqueFd kick_, call_;
};

struct RawReply {
  Header header;
  std::vector<uint8_t> payload;
  uint64_t u64() const {
    uint64_t v = ~0ull;
    if (payload.size() == 8) std::memcpy(&v, payload.data(), 8);
    return v;
  }
};

// What the back end offered in Negotiate.
struct Offered {
  bool ok = false;  // SET_OWNER and SET_FEATURES were acked
  uint64_t features = 0;
  uint64_t protocol_features = 0;
};

// Plays QEMU on its end of the connection.
class FakeFrontEnd {
 public:
  using ErrorHandler = std::function<void(const std::string&)>;
  static constexpr int kReplyTimeoutMs = 5000;

  // loop: the back end's loop when it runs on this thread (turned once per
  // message and per kick), else null (it runs on a thread of its own).
  explicit FakeFrontEnd(UniqueFd socket, EventLoop* loop = nullptr)
      : socket_(std::move(socket)), loop_(loop) {
    if (!loop_) {  // a reply stalled mid-message fails instead of hanging
      timeval timeout{kReplyTimeoutMs / 1000, 0};
      (void)::setsockopt(fd(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    }
  }
  // A front end connected to a back end's unix socket (VhostUserServer).
  static Result<FakeFrontEnd> Connect(const std::string& path, EventLoop* loop = nullptr) {
    return FakeFrontEnd(VK_TRY(ConnectUnix(path)), loop);
  }
  // A connected socket pair: {front end's end, back end's end} (Serve).
  static std::pair<UniqueFd, UniqueFd> SocketPair() {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) std::abort();
    return {UniqueFd(pair[0]), UniqueFd(pair[1])};
  }

  int fd() const { return socket_.get(); }
  void set_on_error(ErrorHandler handler) { on_error_ = std::move(handler); }

  // --- Raw messages ---
  std::optional<RawReply> Send(uint32_t request, std::span<const uint8_t> payload,
                               std::vector<int> fds = {}, uint32_t flags = kFlagVersion) {
    Header header{request, flags, static_cast<uint32_t>(payload.size())};
    if (auto sent = SendMessage(fd(), header, payload, fds); !sent.ok()) {
      Fail("send request " + std::to_string(request) + ": " + sent.error().message());
    }
    if (loop_) {
      Pump();
    } else if (!ExpectsReply(request, flags) || !WaitReadable(kReplyTimeoutMs)) {
      if (ExpectsReply(request, flags)) Fail("no reply to request " + std::to_string(request));
      return std::nullopt;
    }
    return ReadReply();
  }
  std::optional<RawReply> Send(Request request, std::span<const uint8_t> payload = {},
                               std::vector<int> fds = {}, uint32_t flags = kFlagVersion) {
    return Send(static_cast<uint32_t>(request), payload, std::move(fds), flags);
  }
  // With NEED_REPLY (REPLY_ACK negotiated): true when the ack says success.
  bool Ack(Request request, std::span<const uint8_t> payload = {}, std::vector<int> fds = {}) {
    auto reply = Send(request, payload, std::move(fds), kFlagVersion | kFlagNeedReply);
    if (!reply) Fail("no ack for request " + std::to_string(static_cast<int>(request)));
    return reply && reply->u64() == 0;
  }
  uint64_t GetU64(Request request) {
    auto reply = Send(request);
    if (!reply) Fail("no reply to request " + std::to_string(static_cast<int>(request)));
    return reply ? reply->u64() : 0;
  }
  // Turns the back end's loop once (this-thread mode). Messages are already
  // in the socket: a short wait is enough, and keeps steps that expect
  // nothing to happen fast.
  void Pump() {
    if (loop_) (void)loop_->RunOnce(200);
  }
  // The back end closed its end.
  bool Closed() {
    uint8_t byte;
    return ::recv(fd(), &byte, 1, MSG_DONTWAIT | MSG_PEEK) == 0;
  }

  // --- The start sequence (QEMU's vhost_dev_init / vhost_dev_start) ---
  // GET_FEATURES; when the back end offers VHOST_USER_F_PROTOCOL_FEATURES,
  // GET_PROTOCOL_FEATURES and SET_PROTOCOL_FEATURES(protocol_features);
  // then SET_OWNER and SET_FEATURES(features). The helpers after this one
  // need REPLY_ACK among the protocol features (the default).
  Offered Negotiate(uint64_t features, uint64_t protocol_features = kProtocolFeatureReplyAck |
                                                                    kProtocolFeatureConfig) {
    Offered offered;
    offered.features = GetU64(Request::kGetFeatures);
    if (offered.features & kFeatureProtocolFeatures) {
      offered.protocol_features = GetU64(Request::kGetProtocolFeatures);
      // As QEMU: what it wants of what was offered.
      Send(Request::kSetProtocolFeatures, EncodeU64(protocol_features & offered.protocol_features));
    }
    offered.ok = Ack(Request::kSetOwner);
    offered.ok &= Ack(Request::kSetFeatures, EncodeU64(features));
    return offered;
  }
  bool SetMemTable(const SharedMemory& memory) {
    MemoryRegion region = memory.region();
    return Ack(Request::kSetMemTable, EncodeMemoryTable({&region, 1}), {memory.fd()});
  }
  // SET_VRING_NUM/BASE/ADDR/CALL/KICK for ring `index`, as
  // vhost_virtqueue_start does; the KICK starts it.
  bool StartRing(uint32_t index, const DriverRing& ring, const RingFds& fds, uint16_t base = 0) {
    bool ok = Ack(Request::kSetVringNum, EncodeVringState({index, ring.size()}));
    ok &= Ack(Request::kSetVringBase, EncodeVringState({index, base}));
    ok &= Ack(Request::kSetVringAddr, EncodeVringAddress(ring.Address(index)));
    ok &= Ack(Request::kSetVringCall, EncodeU64(index), {fds.call()});
    ok &= Ack(Request::kSetVringKick, EncodeU64(index), {fds.kick()});
    return ok;
  }
  bool EnableRing(uint32_t index, uint32_t on = 1) {
    return Ack(Request::kSetVringEnable, EncodeVringState({index, on}));
  }

  // --- Requests on a started ring ---
  void Kick(const RingFds& fds) {
    fds.Kick();
    Pump();
  }
  // One chain: placed, kicked, the call signal waited for (timeout_ms), and
  // its used element read. nullopt when the device did not answer in time.
  std::optional<UsedElement> Call(DriverRing& ring, const RingFds& fds,
                                  std::span<const Buffer> readable,
                                  std::span<const Buffer> writable,
                                  int timeout_ms = kReplyTimeoutMs) {
    ring.AddChain(readable, writable);
    Kick(fds);
    if (!fds.WaitCall(timeout_ms)) return std::nullopt;
    return ring.NextUsed();
  }

 private:
  // Requests whose reply the back end always sends (their own reply, or an
  // ack asked for): the only ones waited for without a loop to turn.
  static bool ExpectsReply(uint32_t request, uint32_t flags) {
    return (flags & kFlagNeedReply) != 0 || HasOwnReply(request);
  }
  bool WaitReadable(int timeout_ms) {
    pollfd p{fd(), POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) == 1;
  }
  std::optional<RawReply> ReadReply() {
    RawReply reply;
    // On this thread's loop, the reply is either whole in the socket or not
    // coming; from another thread it is coming (poll said so), maybe in parts.
    ssize_t n = ::recv(fd(), &reply.header, sizeof(reply.header),
                       loop_ ? MSG_DONTWAIT | MSG_PEEK : MSG_WAITALL);
    if (n != static_cast<ssize_t>(sizeof(reply.header))) return std::nullopt;
    if (loop_) n = ::recv(fd(), &reply.header, sizeof(reply.header), 0);
    if (reply.header.flags != (kFlagVersion | kFlagReply)) {
      Fail("reply flags " + std::to_string(reply.header.flags));
    }
    reply.payload.resize(reply.header.size);
    if (reply.header.size != 0) {
      n = ::recv(fd(), reply.payload.data(), reply.payload.size(), MSG_WAITALL);
      if (n != static_cast<ssize_t>(reply.header.size)) Fail("short reply payload");
    }
    return reply;
  }
  void Fail(const std::string& message) {
    if (on_error_) {
      on_error_(message);
    } else {
      std::fprintf(stderr, "fake vhost-user front end: %s\n", message.c_str());
    }
  }

  UniqueFd socket_;
  EventLoop* loop_;  // non-owning; null when the back end has its own thread
  ErrorHandler on_error_;
};

}  // namespace vk::virtio::vhost_user::testing
