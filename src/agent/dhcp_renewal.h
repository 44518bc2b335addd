// vk-agent keeps its DHCP lease (RFC 2131 §4.4.5): BOUND until T1, then
// RENEWING (REQUEST carrying ciaddr, answered by our server) until T2, then
// REBINDING (the same REQUEST, broadcast; on our LAN still answered only by
// the server that granted the lease) until the lease expires, then INIT
// (DISCOVER again, to that server). A NAK also leads to INIT. The address
// stays configured meanwhile: the guest has no other, and a server usually
// hands the same one back.
//
// DhcpRenewal is the state machine, driven by an injected clock, sleep and
// transport so tests run it on fake time; DhcpRenewalThread runs one in the
// background while PID 1 serves exec requests.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>

#include "agent/dhcp_client.h"
#include "base/result.h"

namespace vk::agent {

using DhcpTime = std::chrono::steady_clock::time_point;

// When a lease needs attention, counted from the moment it was granted.
struct DhcpLeaseTimes {
  std::chrono::seconds renew;   // T1
  std::chrono::seconds rebind;  // T2
  std::chrono::seconds expire;
};
// nullopt: the lease never expires (infinite, or no lease time offered).
// Offered values are clamped so that 1 s <= T1 <= T2 < lease, lease >= 20 s.
std::optional<DhcpLeaseTimes> LeaseTimes(const DhcpLease& lease);

enum class DhcpRenewalState { kBound, kRenewing, kRebinding, kInit };

struct DhcpRenewalOptions {
  // MAC, hostname, the next transaction id, the clock, and INIT's retries.
  DhcpClientOptions client;
  // Blocks until `until` on client.now's clock; may return early.
  std::function<void(DhcpTime until)> sleep_until;
  // Takes a newly bound lease (renewed, or from INIT) into use.
  std::function<Result<void>(const DhcpLease& previous, const DhcpLease& current)> apply;
  std::function<void(const std::string& line)> log;
};

class DhcpRenewal {
 public:
  // `lease` was granted at `granted_at`: when its REQUEST went out, from
  // which RFC 2131 §4.4.1 counts the lease. `transport` is not owned.
  DhcpRenewal(DhcpTransport& transport, DhcpRenewalOptions options, DhcpLease lease,
              DhcpTime granted_at);

  // Does the next thing the lease needs (sleep until T1, one REQUEST and the
  // wait for its answer, one whole INIT exchange) and returns. A transport
  // error is logged and waited out; the state then stays as it was.
  void Step();
  // True when the lease never expires: there is nothing left to do.
  bool Done() const { return state_ == DhcpRenewalState::kBound && !times_; }

  DhcpRenewalState state() const { return state_; }
  const DhcpLease& lease() const { return lease_; }
  DhcpTime granted_at() const { return granted_at_; }

 private:
  Result<void> WaitForRenewal();
  Result<void> Renew();
  Result<void> Restart();
  bool Accepts(const DhcpReply& reply) const;
  void Bind(DhcpLease lease, DhcpTime granted_at);

  DhcpTransport& transport_;
  DhcpRenewalOptions options_;
  DhcpLease lease_;
  DhcpTime granted_at_;
  std::optional<DhcpLeaseTimes> times_;
  DhcpRenewalState state_ = DhcpRenewalState::kBound;
  uint32_t xid_;
};

// Runs a DhcpRenewal on its own thread (the steady clock, real sleeps) until
// destroyed; destruction interrupts any wait within a fraction of a second.
class DhcpRenewalThread {
 public:
  // options.client.now and options.sleep_until are replaced by real ones.
  DhcpRenewalThread(std::unique_ptr<DhcpTransport> transport, DhcpRenewalOptions options,
                    DhcpLease lease, DhcpTime granted_at);
  ~DhcpRenewalThread();
  DhcpRenewalThread(const DhcpRenewalThread&) = delete;
  DhcpRenewalThread& operator=(const DhcpRenewalThread&) = delete;

 private:
  void SleepUntil(DhcpTime until);
  void Run();

  std::stop_source stop_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::unique_ptr<DhcpTransport> inner_;      // the real one
  std::unique_ptr<DhcpTransport> transport_;  // inner_ behind a stop check
  std::unique_ptr<DhcpRenewal> renewal_;
  std::thread thread_;  // last: starts once everything it uses exists
};

}  // namespace vk::agent
