// DnsUpstream: where the gateway's DNS server sends names it does not own.
// UdpDnsUpstream is the real one: UDP to the resolvers of /etc/resolv.conf,
// driven by the switch's EventLoop, with a per-try timeout and retries
// across servers. Against off-path spoofing (RFC 5452 §9, "Kaminsky"),
// every try has:
//   - its own socket, connected to the server, so a fresh kernel-chosen
//     random source port (Linux randomizes ephemeral ports, RFC 6056);
//   - a fresh 16-bit id from getrandom(2) (the guest's id never goes on the
//     wire, and ids are not a counter an observer could predict);
// and a reply counts only if it comes from that server's address and port,
// carries that id and repeats our question (RFC 5452 §9.1).
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/event_loop.h"
#include "base/result.h"
#include "base/unique_fd.h"

namespace vk::net {

class DnsUpstream {
 public:
  // Gets the response (with the query's id) or an error; called exactly once,
  // on the loop thread, never from inside Query itself.
  using Callback = std::function<void(Result<std::vector<uint8_t>> response)>;
  virtual ~DnsUpstream() = default;
  virtual void Query(std::vector<uint8_t> query, Callback done) = 0;
};

struct ResolverAddress {
  sockaddr_storage address{};
  socklen_t length = 0;
};

// `nameserver` lines of resolv.conf(5), IPv4 or IPv6, port 53.
std::vector<ResolverAddress> ParseResolvConf(std::string_view text);

struct UdpDnsUpstreamOptions {
  std::chrono::milliseconds timeout{2000};  // per try
  int attempts = 3;                         // tries, rotating through servers
  // Queries in flight; bounds memory and host sockets (one per query) a
  // guest can hold open.
  size_t max_pending = 256;
};

class UdpDnsUpstream : public DnsUpstream {
 public:
  // `loop` must outlive the upstream; callbacks run on its thread.
  static Result<std::unique_ptr<UdpDnsUpstream>> Create(EventLoop& loop,
                                                        std::vector<ResolverAddress> servers,
                                                        UdpDnsUpstreamOptions options = {});
  static Result<std::unique_ptr<UdpDnsUpstream>> FromResolvConf(
      EventLoop& loop, const std::string& path = "/etc/resolv.conf",
      UdpDnsUpstreamOptions options = {});
  ~UdpDnsUpstream() override;

  void Query(std::vector<uint8_t> query, Callback done) override;
  size_t pending() const { return pending_.size(); }

 private:
  struct Pending {
    std::vector<uint8_t> wire;  // the query with the current try's id
    uint16_t guest_id = 0;
    UniqueFd socket;  // the current try's, connected to its server
    Callback done;
    int tries_left = 0;
    size_t server = 0;
    std::chrono::steady_clock::time_point deadline;
  };

  UdpDnsUpstream(EventLoop& loop, std::vector<ResolverAddress> servers,
                 UdpDnsUpstreamOptions options)
      : loop_(loop), servers_(std::move(servers)), options_(options) {}
  Result<void> Open();
  const ResolverAddress& ServerOf(const Pending& pending) const {
    return servers_[pending.server % servers_.size()];
  }
  void Send(uint64_t key, Pending& pending);
  Result<UniqueFd> ConnectedSocket(uint64_t key, const ResolverAddress& server);
  void CloseSocket(Pending& pending);
  void OnReadable(uint64_t key);
  bool Accepts(const Pending& pending, const sockaddr_storage& from,
               const std::vector<uint8_t>& response) const;
  void OnTimer();
  void ArmTimer();
  void Finish(uint64_t key, Result<std::vector<uint8_t>> result);

  EventLoop& loop_;
  std::vector<ResolverAddress> servers_;
  UdpDnsUpstreamOptions options_;
  UniqueFd timer_;
  std::map<uint64_t, Pending> pending_;  // by a serial number, never reused
  uint64_t next_key_ = 0;
  size_t next_server_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace vk::net
