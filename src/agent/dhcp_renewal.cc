#include "agent/dhcp_renewal.h"

#include <algorithm>
#include <utility>

#include "proto/str_format.h"

namespace vk::agent {

using proto::StrFormat;
using std::chrono::seconds;
namespace {

// A server handing out shorter leases would have every guest renew several
// times a second (dhcpcd enforces the same floor).
constexpr uint64_t kMinLeaseSeconds = 20;
// RFC 2131 §4.4.5: retransmit after half the time left in the phase, "down
// to a minimum of 60 seconds".
constexpr seconds kMinRetransmit{60};
// INIT found no server (the LAN is down): ask again this much later.
constexpr seconds kInitRetry{60};
// A transport error (interface gone, socket failed) is waited out this long.
constexpr seconds kErrorBackoff{10};
// The renewal thread checks for destruction this often while it listens.
constexpr std::chrono::milliseconds kStopCheck{200};

const char* StateName(DhcpRenewalState state) {
  switch (state) {
    case DhcpRenewalState::kBound: return "bound";
    case DhcpRenewalState::kRenewing: return "renewing";
    case DhcpRenewalState::kRebinding: return "rebinding";
    case DhcpRenewalState::kInit: return "init";
  }
  return "?";
}

// Hands the wrapped transport's waits out in short slices so that a stop
// request is seen promptly; a slice that passes empty reads as "nothing for
// us", which keeps the caller listening until its own deadline.
class StoppableTransport final : public DhcpTransport {
 public:
  StoppableTransport(DhcpTransport& inner, std::stop_token stop)
      : inner_(inner), stop_(std::move(stop)) {}

  Result<void> Send(std::span<const uint8_t> payload) override {
    if (stop_.stop_requested()) return Error("DHCP renewal stopped");
    return inner_.Send(payload);
  }

  Result<std::optional<std::vector<uint8_t>>> Receive(std::chrono::milliseconds timeout) override {
    if (stop_.stop_requested()) return Error("DHCP renewal stopped");
    const auto slice = std::min(timeout, kStopCheck);
    auto packet = VK_TRY(inner_.Receive(slice));
    if (!packet && slice < timeout) return std::optional(std::vector<uint8_t>());
    return packet;
  }

 private:
  DhcpTransport& inner_;
  std::stop_token stop_;
};

}  // namespace

std::optional<DhcpLeaseTimes> LeaseTimes(const DhcpLease& lease) {
  if (lease.lease_seconds == 0 || lease.lease_seconds == kDhcpInfiniteLease) return std::nullopt;
  // 64 bits: 7/8 of a 32-bit lease must not overflow.
  const uint64_t total = std::max<uint64_t>(lease.lease_seconds, kMinLeaseSeconds);
  // RFC 2131 §4.4.5: T1 defaults to half the lease, T2 to 7/8 of it; the
  // server's values count only when 0 < T1 < T2 < lease.
  uint64_t rebind = lease.rebinding_seconds;
  if (rebind == 0 || rebind >= total) rebind = total * 7 / 8;
  uint64_t renew = lease.renewal_seconds;
  if (renew == 0 || renew >= rebind) renew = std::min(total / 2, rebind);
  return DhcpLeaseTimes{seconds(renew), seconds(rebind), seconds(total)};
}

DhcpRenewal::DhcpRenewal(DhcpTransport& transport, DhcpRenewalOptions options, DhcpLease lease,
                         DhcpTime granted_at)
    : transport_(transport),
      options_(std::move(options)),
      lease_(std::move(lease)),
      granted_at_(granted_at),
      times_(LeaseTimes(lease_)),
      xid_(options_.client.xid) {}

void DhcpRenewal::Step() {
  Result<void> done = Ok();
  switch (state_) {
    case DhcpRenewalState::kBound: done = WaitForRenewal(); break;
    case DhcpRenewalState::kRenewing:
    case DhcpRenewalState::kRebinding: done = Renew(); break;
    case DhcpRenewalState::kInit: done = Restart(); break;
  }
  if (done.ok()) return;
  options_.log(StrFormat("DHCP {}: {}", StateName(state_), done.error().message()));
  options_.sleep_until(options_.client.now() + kErrorBackoff);
}

Result<void> DhcpRenewal::WaitForRenewal() {
  if (!times_) return Ok();  // infinite: Done()
  const DhcpTime renew_at = granted_at_ + times_->renew;
  options_.sleep_until(renew_at);
  if (options_.client.now() >= renew_at) state_ = DhcpRenewalState::kRenewing;
  return Ok();
}

// One REQUEST and the wait for its answer, which is also the wait before
// the next retransmission.
Result<void> DhcpRenewal::Renew() {
  const DhcpTime now = options_.client.now();
  const DhcpTime rebind_at = granted_at_ + times_->rebind, expire_at = granted_at_ + times_->expire;
  if (now >= expire_at) {
    options_.log(StrFormat("DHCP lease of {} expired unanswered; asking for a new one",
                           FormatIpv4(lease_.ip)));
    state_ = DhcpRenewalState::kInit;
    return Ok();
  }
  if (state_ == DhcpRenewalState::kRenewing && now >= rebind_at) {
    options_.log(StrFormat("DHCP server {} did not renew {}; asking any server",
                           FormatIpv4(lease_.server_id), FormatIpv4(lease_.ip)));
    state_ = DhcpRenewalState::kRebinding;
    return Ok();
  }
  const DhcpTime phase_end = state_ == DhcpRenewalState::kRenewing ? rebind_at : expire_at;
  const DhcpTime until = std::min(
      now + std::max<DhcpTime::duration>((phase_end - now) / 2, kMinRetransmit), phase_end);
  VK_TRY(transport_.Send(BuildDhcpRenewal(options_.client, xid_, lease_.ip)));
  auto reply = VK_TRY(AwaitDhcpReply(
      transport_, options_.client, xid_, [this](const DhcpReply& r) { return Accepts(r); }, until));
  if (!reply) return Ok();
  if (reply->type == DhcpType::kNak) {
    options_.log(StrFormat("DHCP server {} refused to extend the lease of {}; asking for a new one",
                           FormatIpv4(reply->lease.server_id), FormatIpv4(lease_.ip)));
    state_ = DhcpRenewalState::kInit;
    return Ok();
  }
  Bind(std::move(reply->lease), now);
  return Ok();
}

// RFC 2131 §4.4.5: in RENEWING only the server that granted the lease
// answers. In REBINDING the RFC lets any server answer, but our LAN has one
// server (the gateway) and any other is a guest posing as one: we keep
// believing only the server that granted the lease (option 54, which ACK and
// NAK MUST carry, RFC 2131 §4.3.1 Table 3).
bool DhcpRenewal::Accepts(const DhcpReply& reply) const {
  if (reply.type != DhcpType::kAck && reply.type != DhcpType::kNak) return false;
  return reply.lease.server_id != 0 && reply.lease.server_id == lease_.server_id;
}

// INIT: the whole DISCOVER exchange again, keeping the old address in use
// until a new lease replaces it.
Result<void> DhcpRenewal::Restart() {
  DhcpClientOptions client = options_.client;
  client.xid = xid_ + 1;  // a new transaction, not the refused or expired one
  // INIT again asks only the server that leased to us (unless told one).
  if (client.server_id == 0) client.server_id = lease_.server_id;
  // Past the ids RunDhcpClient may use (one per NAK-restart).
  xid_ = client.xid + static_cast<uint32_t>(client.max_restarts);
  const DhcpTime started = client.now();
  auto lease = RunDhcpClient(transport_, client);
  if (!lease.ok()) {
    options_.log(
        StrFormat("DHCP: {}; trying again in {} s", lease.error().message(), kInitRetry.count()));
    options_.sleep_until(client.now() + kInitRetry);
    return Ok();
  }
  Bind(std::move(*lease), started);
  return Ok();
}

void DhcpRenewal::Bind(DhcpLease lease, DhcpTime granted_at) {
  const DhcpRenewalState from = std::exchange(state_, DhcpRenewalState::kBound);
  const DhcpLease previous = std::exchange(lease_, std::move(lease));
  granted_at_ = granted_at;
  times_ = LeaseTimes(lease_);
  ++xid_;  // the next renewal is a new transaction
  // A routine renewal only moves the timers: stay quiet on the console.
  if (from != DhcpRenewalState::kRenewing || previous.ip != lease_.ip) {
    options_.log(StrFormat("DHCP: bound to {} (server {}, {} s)", FormatIpv4(lease_.ip),
                           FormatIpv4(lease_.server_id), lease_.lease_seconds));
  }
  if (auto applied = options_.apply(previous, lease_); !applied.ok())
    options_.log("warning: DHCP: " + applied.error().message());
}

DhcpRenewalThread::DhcpRenewalThread(std::unique_ptr<DhcpTransport> transport,
                                     DhcpRenewalOptions options, DhcpLease lease,
                                     DhcpTime granted_at)
    : inner_(std::move(transport)),
      transport_(std::make_unique<StoppableTransport>(*inner_, stop_.get_token())) {
  options.client.now = std::chrono::steady_clock::now;
  options.sleep_until = [this](DhcpTime until) { SleepUntil(until); };
  // A line at destruction would only report the stop itself.
  options.log = [this, log = std::move(options.log)](const std::string& line) {
    if (!stop_.stop_requested()) log(line);
  };
  renewal_ =
      std::make_unique<DhcpRenewal>(*transport_, std::move(options), std::move(lease), granted_at);
  thread_ = std::thread([this] { Run(); });
}

DhcpRenewalThread::~DhcpRenewalThread() {
  {
    std::lock_guard lock(mutex_);
    stop_.request_stop();
  }
  wake_.notify_all();
  thread_.join();
}

void DhcpRenewalThread::SleepUntil(DhcpTime until) {
  std::unique_lock lock(mutex_);
  wake_.wait_until(lock, until, [this] { return stop_.stop_requested(); });
}

void DhcpRenewalThread::Run() {
  while (!stop_.stop_requested() && !renewal_->Done()) renewal_->Step();
}

}  // namespace vk::agent
