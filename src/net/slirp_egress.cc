#include "net/slirp_egress.h"

#include <slirp/libslirp.h>
#include <sys/eventfd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstring>
#include <future>

#include "base/lazy_library.h"
#include "base/log.h"
#include "base/thread_role.h"
#include "net/arp.h"
#include "net/cidr.h"
#include "net/dns_message.h"
#include "net/reject.h"
#include "net/tcp_header.h"

VK_LAZY_LIBRARY(vk_lazy_slirp);

namespace vk::net {
namespace {

// Upper bound on one poll() sleep: slirp lowers it for its TCP timers, and
// a stop request wakes the thread anyway, so this only bounds drift.
constexpr uint32_t kMaxPollMs = 1000;
// ARP answers waiting to be fed back into slirp: it asks once per queued
// packet at most, so this only bounds a misbehaving slirp.
constexpr size_t kMaxLocalReplies = 256;

in_addr InAddr(uint32_t host_order) { return in_addr{htonl(host_order)}; }

int64_t NowMs() {
  auto now = std::chrono::steady_clock::now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
}

short ToPollEvents(int slirp_events) {
  short events = 0;
  if (slirp_events & SLIRP_POLL_IN) events |= POLLIN;
  if (slirp_events & SLIRP_POLL_OUT) events |= POLLOUT;
  if (slirp_events & SLIRP_POLL_PRI) events |= POLLPRI;
  if (slirp_events & SLIRP_POLL_ERR) events |= POLLERR;
  if (slirp_events & SLIRP_POLL_HUP) events |= POLLHUP;
  return events;
}

int ToSlirpEvents(short poll_events) {
  int events = 0;
  if (poll_events & POLLIN) events |= SLIRP_POLL_IN;
  if (poll_events & POLLOUT) events |= SLIRP_POLL_OUT;
  if (poll_events & POLLPRI) events |= SLIRP_POLL_PRI;
  if (poll_events & (POLLERR | POLLNVAL)) events |= SLIRP_POLL_ERR;
  if (poll_events & POLLHUP) events |= SLIRP_POLL_HUP;
  return events;
}

// IPv4 header fields (RFC 791 §3.1) and TCP's checksum (RFC 793 §3.1).
constexpr size_t kIpChecksumAt = 10;
constexpr size_t kIpSrcAt = 12;
constexpr size_t kIpDstAt = 16;
constexpr size_t kTcpDstPortAt = 2;
constexpr size_t kTcpChecksumAt = 16;

// The TCP header of an unfragmented packet or first fragment; empty for
// other packets and for ones too short to hold it.
std::span<uint8_t> TcpHeaderOf(std::span<uint8_t> ip) {
  if (ip.size() < kIpv4MinHeader || ip[9] != kIpProtoTcp) return {};
  size_t header_length = (ip[0] & 0x0fu) * 4u;
  if ((Load16(ip, 6) & 0x1fff) != 0 || ip.size() < header_length + kTcpMinHeader) return {};
  return ip.subspan(header_length, kTcpMinHeader);
}

// RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), for a 32-bit field m -> m'.
uint16_t AdjustChecksum(uint16_t checksum, uint32_t from, uint32_t to) {
  uint32_t sum = static_cast<uint16_t>(~checksum);
  sum += static_cast<uint16_t>(~(from >> 16)) + static_cast<uint16_t>(~from);
  sum += (to >> 16) + (to & 0xffff);
  while ((sum >> 16) != 0) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// Rewrites the address at `field` (source or destination), keeping the
// header checksum and TCP's (its pseudo-header covers the addresses) valid.
void ReplaceAddress(std::span<uint8_t> ip, size_t field, uint32_t to) {
  uint32_t from = Load32(ip, field);
  Store32(ip, field, to);
  Store16(ip, kIpChecksumAt, AdjustChecksum(Load16(ip, kIpChecksumAt), from, to));
  std::span<uint8_t> tcp = TcpHeaderOf(ip);
  if (!tcp.empty()) {
    Store16(tcp, kTcpChecksumAt, AdjustChecksum(Load16(tcp, kTcpChecksumAt), from, to));
  }
}

// Emulated hosts in slirp use 52:55 followed by their IPv4 address.
MacAddress SlirpMacFor(uint32_t ip) {
  return {{0x52, 0x55, static_cast<uint8_t>(ip >> 24), static_cast<uint8_t>(ip >> 16),
           static_cast<uint8_t>(ip >> 8), static_cast<uint8_t>(ip)}};
}

}  // namespace

struct SlirpEgress::Timer {
  std::function<void()> fire;
  int64_t expire_ms = -1;  // disarmed
};

// libslirp's C callbacks; `opaque` is the SlirpEgress. All run on the slirp
// thread (or in Start/the destructor, when that thread is not running).
struct SlirpEgress::Callbacks {
  static SlirpEgress* Self(void* opaque) { return static_cast<SlirpEgress*>(opaque); }

  static ssize_t SendPacket(const void* buf, size_t len, void* opaque) {
    Self(opaque)->OnSlirpFrame(Bytes(static_cast<const uint8_t*>(buf), len));
    return static_cast<ssize_t>(len);
  }
  static void GuestError(const char* msg, void*) { log::Debug("slirp: guest error: {}", msg); }
  static int64_t ClockNs(void*) {
    auto now = std::chrono::steady_clock::now().time_since_epoch();
    return std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
  }
  static void* TimerNew(SlirpTimerCb cb, void* cb_opaque, void* opaque) {
    return Self(opaque)->AddTimer([cb, cb_opaque] { cb(cb_opaque); });
  }
  static void* TimerNewOpaque(SlirpTimerId id, void* cb_opaque, void* opaque) {
    SlirpEgress* self = Self(opaque);
    return self->AddTimer(
        [self, id, cb_opaque] { slirp_handle_timer(self->slirp_, id, cb_opaque); });
  }
  static void TimerFree(void* timer, void* opaque) {
    std::erase_if(Self(opaque)->timers_, [timer](const auto& t) { return t.get() == timer; });
  }
  static void TimerMod(void* timer, int64_t expire_ms, void*) {
    static_cast<Timer*>(timer)->expire_ms = expire_ms;
  }
  static void RegisterPollFd(int, void*) {}    // we poll what pollfds_fill lists
  static void UnregisterPollFd(int, void*) {}  // idem
  static void Notify(void* opaque) { Self(opaque)->Wake(); }

  static int AddPoll(int fd, int events, void* opaque) {
    auto& fds = Self(opaque)->pollfds_;
    fds.push_back(pollfd{fd, ToPollEvents(events), 0});
    return static_cast<int>(fds.size() - 1);
  }
  static int GetRevents(int idx, void* opaque) {
    auto& fds = Self(opaque)->pollfds_;
    if (idx < 0 || static_cast<size_t>(idx) >= fds.size()) return 0;
    return ToSlirpEvents(fds[static_cast<size_t>(idx)].revents);
  }

  static const SlirpCb kTable;
};

const SlirpCb SlirpEgress::Callbacks::kTable = {
    .send_packet = &SendPacket,
    .guest_error = &GuestError,
    .clock_get_ns = &ClockNs,
    .timer_new = &TimerNew,
    .timer_free = &TimerFree,
    .timer_mod = &TimerMod,
    .register_poll_fd = &RegisterPollFd,
    .unregister_poll_fd = &UnregisterPollFd,
    .notify = &Notify,
    .init_completed = nullptr,
    .timer_new_opaque = &TimerNewOpaque,
};

SlirpEgressOptions SlirpEgressOptions::ForGateway(const GatewayConfig& config) {
  SlirpEgressOptions options;
  options.network = config.network & PrefixMask(config.prefix_length);
  options.prefix_length = config.prefix_length;
  options.host_ip = config.ip;
  options.mtu = config.mtu;
  return options;
}

Result<std::unique_ptr<SlirpEgress>> SlirpEgress::Create(EventLoop& loop, Gateway& gateway,
                                                         SlirpEgressOptions options) {
  // Loaded here, on the unconfined thread that sets the network up: the
  // sandboxed slirp thread could not open the library (vmm/sandbox.cc).
  VK_TRY_CTX(LoadLazyLibrary(vk_lazy_slirp), "slirp egress");
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake) return Error::FromErrno("slirp egress: eventfd");
  std::unique_ptr<SlirpEgress> egress(new SlirpEgress(loop, options, std::move(wake)));
  VK_TRY_CTX(egress->Start(gateway), "slirp egress");
  return egress;
}

SlirpEgress::SlirpEgress(EventLoop& loop, SlirpEgressOptions options, UniqueFd wake)
    : loop_(loop),
      options_(options),
      slirp_mac_(SlirpMacFor(options.host_ip)),
      wake_(std::move(wake)) {}

Result<void> SlirpEgress::Start(Gateway& gateway) {
  uint32_t mask = PrefixMask(options_.prefix_length);
  if (options_.mtu < 576 || options_.mtu > 65521) return Error("mtu out of range");
  SlirpConfig config{};
  config.version = 4;  // disable_dns (3) and disable_dhcp (4)
  config.restricted = 0;
  config.in_enabled = true;
  config.vnetwork = InAddr(options_.network & mask);
  config.vnetmask = InAddr(mask);
  config.vhost = InAddr(options_.host_ip);
  config.in6_enabled = false;
  config.vdhcp_start = InAddr((options_.network & mask) + 2);  // unused: DHCP is off
  // The network address: no host owns it, and slirp's DNS is off anyway
  // (the Gateway answers port 53 itself).
  config.vnameserver = InAddr(options_.network & mask);
  config.if_mtu = options_.mtu;
  config.if_mru = options_.mtu;
  config.disable_host_loopback = options_.host_loopback == HostLoopback::kDeny;
  config.disable_dns = true;
  config.disable_dhcp = true;
  slirp_ = slirp_new(&config, &Callbacks::kTable, this);
  if (slirp_ == nullptr) return Error("slirp_new failed");
  VK_TRY(StartDnsOverTcp(gateway));
  StartHostAddresses();
  gateway_ = &gateway;
  to_lan_->gateway = &gateway;
  gateway.SetEgressHandler(this);
  thread_ = std::thread([this] { ThreadMain(); });
  return Ok();
}

// The alias is the LAN's broadcast address: the Gateway never hands packets
// for it to egress, so guests reach it only through ToDnsAlias.
Result<void> SlirpEgress::StartDnsOverTcp(Gateway& gateway) {
  uint32_t mask = PrefixMask(options_.prefix_length);
  uint32_t alias = (options_.network & mask) | ~mask;
  if (options_.prefix_length > 30 || alias == options_.host_ip) return Ok();  // no spare address
  dns_tcp_ = std::make_unique<DnsTcpServer>(loop_, gateway.dns());
  std::string path = VK_TRY(dns_tcp_->ListenUnix());
  in_addr guest_addr = InAddr(alias);
  if (slirp_add_unix(slirp_, path.c_str(), &guest_addr, kDnsPort) != 0) {
    return Error("dns over tcp: slirp refused the guestfwd");
  }
  dns_alias_ = alias;
  return Ok();
}

// Guest -> slirp: TCP to gateway:53 goes to the alias instead (slirp would
// connect it to the host's port 53). Fragments after the first carry no
// port and pass unchanged: when their first fragment was readdressed, the
// datagram can no longer be reassembled in slirp, so no part of it reaches
// the host's port 53. False drops the packet.
bool SlirpEgress::ToDnsAlias(std::span<uint8_t> ip) const {
  if (dns_alias_ == 0 || ip.size() < kIpv4MinHeader || ip[9] != kIpProtoTcp) return true;
  if (Load32(ip, kIpDstAt) != options_.host_ip || (Load16(ip, 6) & 0x1fff) != 0) return true;
  std::span<uint8_t> tcp = TcpHeaderOf(ip);
  if (tcp.empty()) return false;  // a first fragment hiding its port (RFC 1858)
  if (Load16(tcp, kTcpDstPortAt) == kDnsPort) ReplaceAddress(ip, kIpDstAt, dns_alias_);
  return true;
}

// Slirp -> LAN: whatever the alias sends is the gateway's DNS answering.
void SlirpEgress::FromDnsAlias(std::span<uint8_t> ip) const {
  if (dns_alias_ == 0 || ip.size() < kIpv4MinHeader || Load32(ip, kIpSrcAt) != dns_alias_) return;
  ReplaceAddress(ip, kIpSrcAt, options_.host_ip);
}

// The addresses are read now and again whenever the host's change. Without
// them (no getifaddrs, no netlink) 127/8 and 0/8 are still refused.
void SlirpEgress::StartHostAddresses() {
  if (auto read = host_addresses_.Refresh(); !read.ok()) {
    log::Warn("slirp egress: host addresses: {}", read.error().message());
  }
  auto watcher = HostAddressWatcher::Create(loop_, [this] {
    if (auto read = host_addresses_.Refresh(); !read.ok()) {
      log::Warn("slirp egress: host addresses: {}", read.error().message());
    }
  });
  if (!watcher.ok()) {
    log::Warn("slirp egress: not watching host address changes: {}", watcher.error().message());
    return;
  }
  address_watcher_ = std::move(*watcher);
}

// Host loopback is reachable only as host.lan (see the top). The DNS alias
// is the gateway's own server, never the host's. Multicast and 240/4 are no
// single peer a NAT could carry replies from; sent from a host socket they
// would land on the host's own network segment (mDNS, SSDP).
bool SlirpEgress::Refused(Bytes ip) const {
  if (ip.size() < kIpv4MinHeader) return true;
  uint32_t dst = Load32(ip, kIpDstAt);
  if (host_addresses_.LandsOnHost(dst) || (dst >> 28) >= 0xE) return true;
  return dst == options_.host_ip && options_.host_loopback == HostLoopback::kDeny;
}

// Answered straight into the LAN, past its ingress filter: the answer is
// ours, like the firewall's own rejections.
void SlirpEgress::Refuse(Bytes ip_packet) {
  to_host_refused_.fetch_add(1, std::memory_order_relaxed);
  auto answer = BuildRejection(ip_packet, options_.host_ip);
  if (answer && gateway_ != nullptr) {
    gateway_->SendIpPacket(*answer, Gateway::IngressCheck::kBypass);
  }
}

bool SlirpEgress::IsLanHost(uint32_t ip) const {
  uint32_t mask = PrefixMask(options_.prefix_length);
  uint32_t network = options_.network & mask;
  return (ip & mask) == network && ip != network && ip != (network | ~mask) &&
         ip != options_.host_ip;
}

// Detaches the gateway's egress handler: ours, or a wrapper forwarding to us
// that would dangle just the same.
SlirpEgress::~SlirpEgress() {
  // First: closing the listener fails a connect() slirp may be blocked in.
  dns_tcp_.reset();
  {
    std::lock_guard lock(to_lan_->mutex);
    if (to_lan_->gateway != nullptr) to_lan_->gateway->SetEgressHandler(nullptr);
    to_lan_->gateway = nullptr;  // tasks already posted become no-ops
    to_lan_->packets.clear();
  }
  stopping_ = true;
  Wake();
  if (thread_.joinable()) thread_.join();
  if (slirp_ == nullptr) return;
  RunQueuedTasks();  // control calls still waiting get their answer
  slirp_cleanup(slirp_);
}

void SlirpEgress::Wake() {
  uint64_t one = 1;
  ssize_t ignored = ::write(wake_.get(), &one, sizeof(one));
  (void)ignored;  // EAGAIN: the counter is already non-zero, a wake is pending
}

void SlirpEgress::OnIpPacket(Bytes ip_packet) {
  std::vector<uint8_t> frame =
      BuildEthernetFrame(slirp_mac_, kPseudoMac, kEtherTypeIpv4, ip_packet);
  std::span<uint8_t> ip = std::span(frame).subspan(kEthernetHeaderSize);
  if (!ToDnsAlias(ip)) {
    to_host_dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (Refused(ip)) return Refuse(ip_packet);
  bool was_idle = false;
  {
    std::lock_guard lock(in_mutex_);
    if (in_frames_.size() >= options_.max_queued_packets ||
        in_bytes_ + frame.size() > options_.max_queued_bytes) {
      to_host_dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    was_idle = in_frames_.empty() && in_tasks_.empty();
    in_bytes_ += frame.size();
    in_frames_.push_back(std::move(frame));
  }
  to_host_packets_.fetch_add(1, std::memory_order_relaxed);
  to_host_bytes_.fetch_add(ip_packet.size(), std::memory_order_relaxed);
  // A non-empty queue already has a wake pending (the thread empties it
  // under the lock before it sleeps), so one eventfd write per batch.
  if (was_idle) Wake();
}

Result<void> SlirpEgress::RunOnSlirpThread(std::function<int(Slirp*)> call) {
  if (std::this_thread::get_id() == thread_.get_id()) return Error("called on the slirp thread");
  std::promise<int> done;
  std::future<int> result = done.get_future();
  {
    std::lock_guard lock(in_mutex_);
    in_tasks_.push_back([this, &call, &done] { done.set_value(call(slirp_)); });
  }
  Wake();
  int err = result.get();
  if (err != 0) return Error::FromErrno("slirp", err);
  return Ok();
}

Result<void> SlirpEgress::AddPortForward(ForwardProto proto, uint32_t host_ip, uint16_t host_port,
                                         uint32_t guest_ip, uint16_t guest_port) {
  if (guest_ip == 0 || guest_port == 0) return Error("port forward: guest address required");
  if (!IsLanHost(guest_ip)) {
    return Error(
        fmt::format("port forward: {} is not a guest address on the LAN", FormatIpv4(guest_ip)));
  }
  int is_udp = proto == ForwardProto::kUdp ? 1 : 0;
  return RunOnSlirpThread([=](Slirp* slirp) {
           errno = 0;
           int rc = slirp_add_hostfwd(slirp, is_udp, InAddr(host_ip), host_port, InAddr(guest_ip),
                                      guest_port);
           return rc == 0 ? 0 : (errno != 0 ? errno : EINVAL);
         })
      .Context(fmt::format("forward {} host port {}", is_udp ? "udp" : "tcp", host_port));
}

Result<void> SlirpEgress::RemovePortForward(ForwardProto proto, uint32_t host_ip,
                                            uint16_t host_port) {
  int is_udp = proto == ForwardProto::kUdp ? 1 : 0;
  return RunOnSlirpThread([=](Slirp* slirp) {
           return slirp_remove_hostfwd(slirp, is_udp, InAddr(host_ip), host_port) == 0 ? 0 : ENOENT;
         })
      .Context(fmt::format("remove {} forward of host port {}", is_udp ? "udp" : "tcp", host_port));
}

SlirpEgressStats SlirpEgress::Stats() const {
  SlirpEgressStats stats;
  stats.to_host_packets = to_host_packets_.load(std::memory_order_relaxed);
  stats.to_host_bytes = to_host_bytes_.load(std::memory_order_relaxed);
  stats.to_host_dropped = to_host_dropped_.load(std::memory_order_relaxed);
  stats.to_host_refused = to_host_refused_.load(std::memory_order_relaxed);
  stats.to_lan_packets = to_lan_->packets_sent.load(std::memory_order_relaxed);
  stats.to_lan_bytes = to_lan_->bytes_sent.load(std::memory_order_relaxed);
  stats.to_lan_dropped = to_lan_->dropped.load(std::memory_order_relaxed);
  stats.arp_replies = arp_replies_.load(std::memory_order_relaxed);
  return stats;
}

void SlirpEgress::ThreadMain() {
  EnterThreadRole(ThreadRole::kNetEgress);
  while (!stopping_.load()) PollOnce();
}

// One round of libslirp's fill / poll / dispatch cycle. The LAN's packets
// are fed in right after slirp_pollfds_poll, which refreshes libslirp's
// clock: sockets created on a stale clock would expire at once.
void SlirpEgress::PollOnce() {
  // Slirp holds packets until it learns the guest's MAC and only retries
  // from slirp_pollfds_poll: after feeding it ARP answers, go round again now.
  uint32_t timeout = fed_replies_ ? 0 : kMaxPollMs;
  pollfds_.clear();
  pollfds_.push_back(pollfd{wake_.get(), POLLIN, 0});
  slirp_pollfds_fill(slirp_, &timeout, &Callbacks::AddPoll, this);
  int wait = static_cast<int>(std::min<int64_t>(timeout, NextTimerMs()));
  int ready = ::poll(pollfds_.data(), pollfds_.size(), wait);
  if (ready < 0 && errno != EINTR) log::Warn("slirp egress: poll: {}", std::strerror(errno));
  if (ready > 0 && (pollfds_[0].revents & POLLIN) != 0) {
    uint64_t count;
    ssize_t ignored = ::read(wake_.get(), &count, sizeof(count));
    (void)ignored;
  }
  slirp_pollfds_poll(slirp_, ready < 0 ? 1 : 0, &Callbacks::GetRevents, this);
  FireTimers();
  DrainInbound();
}

// Feeds slirp our ARP answers and what the LAN sent, and runs queued
// control calls.
void SlirpEgress::DrainInbound() {
  RunQueuedTasks();
  std::deque<std::vector<uint8_t>> frames;
  {
    std::lock_guard lock(in_mutex_);
    frames.swap(in_frames_);
    in_bytes_ = 0;
  }
  // Replies first: packets below may be answered by slirp right away.
  // Answers to ARP requests made while feeding are picked up next round.
  std::vector<std::vector<uint8_t>> replies;
  replies.swap(local_replies_);
  for (const auto& reply : replies) {
    slirp_input(slirp_, reply.data(), static_cast<int>(reply.size()));
  }
  for (const auto& frame : frames) {
    slirp_input(slirp_, frame.data(), static_cast<int>(frame.size()));
  }
  fed_replies_ = !replies.empty() || !local_replies_.empty();
}

void SlirpEgress::RunQueuedTasks() {
  std::deque<std::function<void()>> tasks;
  {
    std::lock_guard lock(in_mutex_);
    tasks.swap(in_tasks_);
  }
  for (auto& task : tasks) task();
}

SlirpEgress::Timer* SlirpEgress::AddTimer(std::function<void()> fire) {
  timers_.push_back(std::make_unique<Timer>(Timer{std::move(fire)}));
  return timers_.back().get();
}

int SlirpEgress::NextTimerMs() const {
  int64_t now = NowMs();
  int64_t next = INT_MAX;
  for (const auto& timer : timers_) {
    if (timer->expire_ms >= 0) next = std::min(next, std::max<int64_t>(0, timer->expire_ms - now));
  }
  return static_cast<int>(next);
}

void SlirpEgress::FireTimers() {
  // Restart the scan after each firing: a callback may re-arm or free timers.
  for (bool fired = true; fired;) {
    fired = false;
    int64_t now = NowMs();
    for (const auto& timer : timers_) {
      if (timer->expire_ms < 0 || timer->expire_ms > now) continue;
      timer->expire_ms = -1;
      timer->fire();
      fired = true;
      break;
    }
  }
}

void SlirpEgress::OnSlirpFrame(Bytes frame) {
  auto ethernet = ParseEthernet(frame);
  if (!ethernet.ok()) return;
  if (ethernet->header.ether_type == kEtherTypeArp) return AnswerArp(ethernet->payload);
  if (ethernet->header.ether_type == kEtherTypeIpv4) QueueToLan(ethernet->payload);
}

// Slirp resolves LAN addresses before sending; the whole LAN sits behind the
// pseudo-MAC, and the Gateway does the real resolution.
void SlirpEgress::AnswerArp(Bytes payload) {
  auto arp = ParseArp(payload);
  if (!arp.ok() || arp->operation != kArpRequest) return;
  if (local_replies_.size() >= kMaxLocalReplies) return;
  ArpPacket reply{kArpReply, kPseudoMac, arp->target_ip, arp->sender_mac, arp->sender_ip};
  local_replies_.push_back(
      BuildEthernetFrame(arp->sender_mac, kPseudoMac, kEtherTypeArp, BuildArp(reply)));
  arp_replies_.fetch_add(1, std::memory_order_relaxed);
}

void SlirpEgress::QueueToLan(Bytes ip_packet) {
  ToLan& to_lan = *to_lan_;
  std::vector<uint8_t> packet(ip_packet.begin(), ip_packet.end());
  FromDnsAlias(packet);
  {
    std::lock_guard lock(to_lan.mutex);
    if (to_lan.packets.size() >= options_.max_queued_packets ||
        to_lan.bytes + ip_packet.size() > options_.max_queued_bytes) {
      to_lan.dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    to_lan.packets.push_back(std::move(packet));
    to_lan.bytes += ip_packet.size();
    if (to_lan.drain_posted) return;  // the pending task will take this one too
    to_lan.drain_posted = true;
  }
  loop_.Post([to_lan = to_lan_] { DrainToLan(to_lan); });
}

// Gateway loop thread: hands a batch of slirp's packets to the Gateway.
void SlirpEgress::DrainToLan(const std::shared_ptr<ToLan>& to_lan) {
  std::deque<std::vector<uint8_t>> batch;
  Gateway* gateway = nullptr;
  {
    std::lock_guard lock(to_lan->mutex);
    batch.swap(to_lan->packets);
    to_lan->bytes = 0;
    to_lan->drain_posted = false;
    gateway = to_lan->gateway;
  }
  if (gateway == nullptr) return;  // the SlirpEgress is gone
  for (const auto& packet : batch) {
    if (!gateway->SendIpPacket(packet)) {
      to_lan->dropped.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    to_lan->packets_sent.fetch_add(1, std::memory_order_relaxed);
    to_lan->bytes_sent.fetch_add(packet.size(), std::memory_order_relaxed);
  }
}

}  // namespace vk::net
