// DnsUpstream: where the gateway's DNS server sends names it does not own.
// UdpDnsUpstream is the real one: a non-blocking host UDP socket to the
// resolvers of /etc/resolv.conf, driven by the switch's EventLoop, with a
// per-try timeout, retries across servers and a fresh random id per query
// (RFC 5452 §9.2: the guest's id is never what goes on the wire).
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
  // Queries in flight; bounds memory and ids a guest can hold open.
  size_t max_pending = 512;
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
    std::vector<uint8_t> wire;  // the query with our id
    uint16_t guest_id = 0;
    Callback done;
    int tries_left = 0;
    size_t server = 0;
    std::chrono::steady_clock::time_point deadline;
  };

  UdpDnsUpstream(EventLoop& loop, std::vector<ResolverAddress> servers,
                 UdpDnsUpstreamOptions options)
      : loop_(loop), servers_(std::move(servers)), options_(options) {}
  Result<void> Open();
  int SocketFor(const ResolverAddress& server) const;
  bool Send(Pending& pending);
  void OnReadable(int fd);
  void OnResponse(const sockaddr_storage& from, std::vector<uint8_t> response);
  void OnTimer();
  void ArmTimer();
  void Finish(uint16_t id, Result<std::vector<uint8_t>> result);
  uint16_t FreshId() const;

  EventLoop& loop_;
  std::vector<ResolverAddress> servers_;
  UdpDnsUpstreamOptions options_;
  UniqueFd socket4_, socket6_, timer_;
  std::map<uint16_t, Pending> pending_;
  size_t next_server_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace vk::net
