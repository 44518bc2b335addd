// SlirpEgress: the LAN's way out to the rest of the world through ordinary
// host sockets, using libslirp as a user-mode NAT (no privileges, no tap).
//
// libslirp is an Ethernet endpoint, so we play a pseudo-host in front of it:
// each IPv4 packet the Gateway routes out is framed from a fixed pseudo-MAC
// to slirp's MAC; frames slirp emits are unwrapped (IPv4) and handed back to
// Gateway::SendIpPacket, which resolves the real guest MAC. ARP requests
// from slirp are answered with the pseudo-MAC for every address, so slirp
// sees the whole LAN behind one neighbour.
//
// Slirp's own DHCP and DNS are off (the Gateway serves both); its vhost is
// the gateway address, so guest connections to the gateway on other ports
// reach the host's loopback ("host.lan"). IPv6 is disabled.
//
// host.lan is the ONLY way to the host's loopback. libslirp would also
// connect a guest's packets for 127/8 and 0/8 to the host's loopback, and
// ones for the host's own interface addresses to its services, behind the
// back of every rule and allowlist written for host.lan. Such packets are
// refused before slirp sees them (a TCP reset or ICMP "administratively
// prohibited", so the guest fails at once; see host_addresses.h).
// HostLoopback::kDeny refuses host.lan as well, except the gateway's own
// DNS over TCP.
//
// DNS over TCP (gateway:53/tcp) is served by a DnsTcpServer with the
// Gateway's DnsServer, not by the host. Slirp terminates the guest's TCP
// and, through a unix-socket guestfwd (slirp_add_unix), opens one host
// socket per guest connection to our listener, so concurrent connections
// stay apart. Slirp refuses guestfwds on its vhost address, so the guest's
// segments to gateway:53 are readdressed to an alias (the LAN's broadcast
// address: never a host, and never routed to egress by the Gateway) on the
// way in, and back on the way out. (The callback guestfwd,
// slirp_add_guestfwd, was not used: it has one callback for every
// connection to the address, never reports a close, and
// slirp_socket_recv answers only the newest connection.)
//
// Threading: libslirp is single-threaded and built around poll(), so it
// runs on a dedicated thread that owns the Slirp instance. OnIpPacket (the
// Gateway's loop thread) only enqueues; packets for the LAN are queued and
// delivered to the Gateway by a task posted to its EventLoop, so every call
// into the Gateway happens on the Gateway's thread. Port forwards run on
// the slirp thread and the caller waits for the result. The DnsTcpServer
// runs on the Gateway's loop thread; slirp's blocking connect() to it
// needs only that thread to keep accepting.
#pragma once

#include <poll.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "base/event_loop.h"
#include "base/result.h"
#include "base/unique_fd.h"
#include "net/dns_tcp_stream.h"
#include "net/ethernet.h"
#include "net/gateway.h"
#include "net/host_addresses.h"

struct Slirp;

namespace vk::net {

enum class ForwardProto { kTcp, kUdp };
enum class HostLoopback { kAllow, kDeny };

struct SlirpEgressOptions {
  uint32_t network = Ipv4(192, 168, 127, 0);
  unsigned prefix_length = 24;
  // Slirp's own address: the gateway's, so "gateway:port" means host loopback.
  uint32_t host_ip = Ipv4(192, 168, 127, 1);
  uint16_t mtu = 1500;  // must not exceed the Gateway's (it drops larger packets)
  HostLoopback host_loopback = HostLoopback::kAllow;
  // Per-direction queue bounds: a guest flooding egress (or a host peer
  // flooding the guest) costs at most this much memory before packets are
  // dropped; TCP recovers by retransmitting, UDP is lossy anyway.
  size_t max_queued_packets = 1024;
  size_t max_queued_bytes = 4 << 20;

  static SlirpEgressOptions ForGateway(const GatewayConfig& config);
};

struct SlirpEgressStats {
  uint64_t to_host_packets = 0;  // LAN -> slirp (queued for it)
  uint64_t to_host_bytes = 0;
  uint64_t to_host_dropped = 0;  // queue full
  uint64_t to_host_refused = 0;  // for the host other than as host.lan
  uint64_t to_lan_packets = 0;   // slirp -> Gateway (accepted by it)
  uint64_t to_lan_bytes = 0;
  uint64_t to_lan_dropped = 0;  // queue full or refused by the Gateway
  uint64_t arp_replies = 0;     // answered for slirp
};

class SlirpEgress : public EgressHandler {
 public:
  // Creates the slirp instance and thread and installs itself as `gateway`'s
  // egress handler (a wrapper may replace it; the destructor resets the
  // handler to null either way). `loop` runs `gateway`; both (not owned) must
  // outlive the SlirpEgress. Call Create and the destructor on the loop's
  // thread (or while the loop is not running).
  static Result<std::unique_ptr<SlirpEgress>> Create(EventLoop& loop, Gateway& gateway,
                                                     SlirpEgressOptions options);
  ~SlirpEgress() override;
  SlirpEgress(const SlirpEgress&) = delete;
  SlirpEgress& operator=(const SlirpEgress&) = delete;

  // Gateway loop thread: queues the packet for slirp (dropped when full).
  void OnIpPacket(Bytes ip_packet) override;

  // Any thread but the slirp thread. Addresses are host order; a host_ip of
  // 0 listens on all interfaces. guest_ip must be a host on the LAN: not its
  // network or broadcast address, and not the gateway (that would publish a
  // host loopback service on host_ip).
  Result<void> AddPortForward(ForwardProto proto, uint32_t host_ip, uint16_t host_port,
                              uint32_t guest_ip, uint16_t guest_port);
  Result<void> RemovePortForward(ForwardProto proto, uint32_t host_ip, uint16_t host_port);

  SlirpEgressStats Stats() const;
  // The MAC slirp sees the LAN behind (locally administered).
  static constexpr MacAddress kPseudoMac{{0x02, 0x76, 0x6b, 0x00, 0x00, 0x01}};

 private:
  struct Timer;
  struct Callbacks;  // the libslirp C callbacks (slirp_egress.cc)
  friend struct Callbacks;
  // Packets for the LAN, shared with tasks posted to the gateway loop that
  // may run after the SlirpEgress is gone (they then find gateway null).
  struct ToLan {
    std::mutex mutex;
    Gateway* gateway = nullptr;  // not owned; cleared by the destructor
    std::deque<std::vector<uint8_t>> packets;
    size_t bytes = 0;
    bool drain_posted = false;
    std::atomic<uint64_t> packets_sent{0}, bytes_sent{0}, dropped{0};
  };

  SlirpEgress(EventLoop& loop, SlirpEgressOptions options, UniqueFd wake);
  Result<void> Start(Gateway& gateway);
  Result<void> StartDnsOverTcp(Gateway& gateway);
  Result<void> RunOnSlirpThread(std::function<int(Slirp*)> call);
  void Wake();
  void ThreadMain();
  void PollOnce();
  void DrainInbound();
  void RunQueuedTasks();
  Timer* AddTimer(std::function<void()> fire);
  int NextTimerMs() const;
  void FireTimers();
  static void DrainToLan(const std::shared_ptr<ToLan>& to_lan);

  // Slirp thread: what libslirp sends towards the LAN.
  void OnSlirpFrame(Bytes frame);
  void AnswerArp(Bytes payload);
  void QueueToLan(Bytes ip_packet);
  // Readdressing of gateway:53/tcp to and from the alias (see the top).
  bool ToDnsAlias(std::span<uint8_t> ip) const;
  void FromDnsAlias(std::span<uint8_t> ip) const;
  // Gateway loop thread: packets that must not become host sockets.
  void StartHostAddresses();
  bool Refused(Bytes ip) const;
  void Refuse(Bytes ip_packet);
  bool IsLanHost(uint32_t ip) const;

  EventLoop& loop_;
  SlirpEgressOptions options_;
  MacAddress slirp_mac_;
  UniqueFd wake_;  // eventfd: inbound work, control calls, stop
  Slirp* slirp_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  // Gateway loop thread: serves gateway:53/tcp; null if the LAN has no
  // spare address for the alias (prefix /31 or /32).
  std::unique_ptr<DnsTcpServer> dns_tcp_;
  uint32_t dns_alias_ = 0;  // stands in for gateway:53/tcp inside slirp; 0: none
  // Gateway loop thread: where host loopback hides besides host.lan.
  HostAddresses host_addresses_;
  std::unique_ptr<HostAddressWatcher> address_watcher_;  // null: could not watch
  Gateway* gateway_ = nullptr;                           // not owned; answers refusals

  // LAN -> slirp (producers: gateway thread and control callers).
  std::mutex in_mutex_;
  std::deque<std::vector<uint8_t>> in_frames_;
  size_t in_bytes_ = 0;
  std::deque<std::function<void()>> in_tasks_;

  std::shared_ptr<ToLan> to_lan_ = std::make_shared<ToLan>();

  // Slirp thread only.
  std::vector<std::vector<uint8_t>> local_replies_;  // ARP answers fed back in
  bool fed_replies_ = false;  // ARP answers pending or just fed: poll without sleeping
  std::vector<pollfd> pollfds_;
  std::list<std::unique_ptr<Timer>> timers_;

  std::atomic<uint64_t> to_host_packets_{0}, to_host_bytes_{0}, to_host_dropped_{0};
  std::atomic<uint64_t> to_host_refused_{0};
  std::atomic<uint64_t> arp_replies_{0};
};

}  // namespace vk::net
