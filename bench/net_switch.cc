// Userspace network throughput, in-process:
//  - BM_SwitchForward: the Switch's own capacity, one frame per iteration
//    between two ports whose MACs are learned (64- and 1500-byte frames).
//  - BM_SlirpTcpBulk: a fake guest streams TCP through Switch + Gateway +
//    SlirpEgress to a server on host loopback (reached as the gateway IP).
//    The guest side is a minimal go-back-N sender honouring slirp's window.
//  - BM_HostLoopbackTcp: the same bulk stream between two host threads over
//    loopback, the floor the slirp path is compared with.
//
//   build/release/vk_net_bench [--benchmark_filter=Switch]
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "base/event_loop.h"
#include "net/arp.h"
#include "net/gateway.h"
#include "net/slirp_egress.h"
#include "net/switch.h"
#include "net/tcp_header.h"

namespace {

using namespace vk;       // NOLINT: a benchmark file
using namespace vk::net;  // NOLINT

constexpr size_t kChunk = 1 << 20;  // bytes per iteration of the TCP benchmarks

MacAddress Mac(uint8_t last) { return {{0x52, 0x54, 0x00, 0x12, 0x34, last}}; }

class CountingSink : public FrameSink {
 public:
  bool Deliver(std::span<const uint8_t> frame) override {
    ++frames;
    bytes += frame.size();
    return true;
  }
  uint64_t frames = 0;
  uint64_t bytes = 0;
};

void BM_SwitchForward(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  Switch lan;
  CountingSink a_sink, b_sink;
  PortId a = lan.AddPort(&a_sink, "a");
  PortId b = lan.AddPort(&b_sink, "b");
  std::vector<uint8_t> payload(size - kEthernetHeaderSize, 0xab);
  auto a_to_b = BuildEthernetFrame(Mac(2), Mac(1), kEtherTypeIpv4, payload);
  auto b_to_a = BuildEthernetFrame(Mac(1), Mac(2), kEtherTypeIpv4, payload);
  lan.Receive(a, a_to_b);  // learn both MACs: unicast from here on
  lan.Receive(b, b_to_a);
  for (auto _ : state) lan.Receive(a, a_to_b);
  if (b_sink.frames < static_cast<uint64_t>(state.iterations())) state.SkipWithError("lost frames");
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(size));
  state.counters["Gbit"] = benchmark::Counter(
      static_cast<double>(state.iterations() * size * 8) / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SwitchForward)->Arg(64)->Arg(1500);

// A loopback TCP listener whose accepted connection is drained by a thread.
class SinkServer {
 public:
  SinkServer() {
    listener_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) std::abort();
    if (::listen(listener_.get(), 4) != 0) std::abort();
    ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Drain(); });
  }
  ~SinkServer() {
    // Unblock the thread whether it waits in accept() or in recv().
    ::shutdown(listener_.get(), SHUT_RDWR);
    if (int conn = conn_fd_.load(); conn >= 0) ::shutdown(conn, SHUT_RDWR);
    thread_.join();
    if (int conn = conn_fd_.load(); conn >= 0)
      ::close(conn);  // closed after the join: no reuse race
  }
  uint16_t port() const { return port_; }
  uint64_t received() const { return received_.load(); }

 private:
  void Drain() {
    int conn = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    conn_fd_ = conn;
    std::vector<char> buf(1 << 18);
    for (ssize_t n; conn >= 0 && (n = ::recv(conn, buf.data(), buf.size(), 0)) > 0;) {
      received_ += static_cast<uint64_t>(n);
    }
  }
  UniqueFd listener_;
  uint16_t port_ = 0;
  std::atomic<uint64_t> received_{0};
  std::atomic<int> conn_fd_{-1};
  std::thread thread_;
};

std::vector<uint8_t> TcpPacket(uint32_t src, uint32_t dst, uint16_t src_port, uint16_t dst_port,
                               uint32_t seq, uint32_t ack, uint8_t flags, Bytes payload = {}) {
  std::vector<uint8_t> segment;
  segment.reserve(kTcpMinHeader + payload.size());
  ByteWriter writer(segment);
  writer.U16(src_port);
  writer.U16(dst_port);
  writer.U32(seq);
  writer.U32(ack);
  writer.U8(5 << 4);
  writer.U8(flags);
  writer.U16(65535);
  writer.U32(0);  // checksum and urgent pointer
  writer.Append(payload);
  Store16(segment, 16, TransportChecksum(src, dst, kIpProtoTcp, segment));
  return BuildIpv4Packet(kIpProtoTcp, src, dst, segment);
}

// The fake guest: a switch port that sends a TCP stream and tracks ACKs.
class GuestSender : public FrameSink {
 public:
  static constexpr uint32_t kIp = Ipv4(192, 168, 127, 2);
  static constexpr uint32_t kGatewayIp = Ipv4(192, 168, 127, 1);
  static constexpr uint16_t kPort = 40000;
  static constexpr size_t kMss = 1460;
  uint64_t retransmits = 0;

  GuestSender(Switch& lan, EventLoop& loop, MacAddress gateway_mac, uint16_t server_port)
      : lan_(lan), loop_(loop), gateway_mac_(gateway_mac), server_port_(server_port) {
    port_ = lan_.AddPort(this, "guest");
  }
  ~GuestSender() override { lan_.RemovePort(port_); }

  bool Deliver(std::span<const uint8_t> frame) override {
    auto ethernet = ParseEthernet(frame);
    if (!ethernet.ok() || ethernet->header.ether_type != kEtherTypeIpv4) return true;
    auto ip = ParseIpv4Packet(ethernet->payload);
    if (!ip.ok() || ip->header.protocol != kIpProtoTcp) return true;
    auto tcp = ParseTcp(*ip, L4Checksum::kSkip);
    if (!tcp.ok() || tcp->header.dst_port != kPort) return true;
    if (tcp->header.Has(kTcpSyn)) peer_seq_ = tcp->header.seq + 1, connected_ = true;
    if (tcp->header.Has(kTcpAck) && static_cast<int32_t>(tcp->header.ack - una_) > 0) {
      una_ = tcp->header.ack;
      last_progress_ = std::chrono::steady_clock::now();
    }
    window_ = tcp->header.window;
    return true;
  }

  bool Connect() {
    // Announce the guest's MAC (ARP) so the gateway can address replies.
    ArpPacket arp{kArpRequest, Mac(2), kIp, MacAddress{}, kGatewayIp};
    lan_.Receive(port_,
                 BuildEthernetFrame(MacAddress::Broadcast(), Mac(2), kEtherTypeArp, BuildArp(arp)));
    SendIp(TcpPacket(kIp, kGatewayIp, kPort, server_port_, nxt_ - 1, 0, kTcpSyn));
    if (!PumpUntil([this] { return connected_; })) return false;
    SendIp(TcpPacket(kIp, kGatewayIp, kPort, server_port_, nxt_, peer_seq_, kTcpAck));
    return true;
  }

  // Sends `bytes` more and waits until slirp acknowledged them all.
  bool Send(size_t bytes) {
    uint32_t end = nxt_ + static_cast<uint32_t>(bytes);
    last_progress_ = std::chrono::steady_clock::now();
    auto retransmit_at = last_progress_;
    while (una_ != end) {
      FillWindow(end);
      if (!loop_.RunOnce(1).ok()) return false;
      auto now = std::chrono::steady_clock::now();
      if (now - last_progress_ > std::chrono::seconds(5)) return false;
      retransmit_at = std::max(retransmit_at, last_progress_ + std::chrono::milliseconds(100));
      if (now > retransmit_at) {  // a segment was lost: go back N
        nxt_ = una_;
        retransmit_at = now + std::chrono::milliseconds(100);
        ++retransmits;
      }
    }
    return true;
  }

 private:
  void FillWindow(uint32_t end) {
    while (nxt_ != end && nxt_ - una_ + kMss <= window_) {
      size_t len = std::min<size_t>(kMss, end - nxt_);
      SendIp(TcpPacket(kIp, kGatewayIp, kPort, server_port_, nxt_, peer_seq_, kTcpAck,
                       Bytes(data_.data(), len)));
      nxt_ += static_cast<uint32_t>(len);
    }
  }
  void SendIp(const std::vector<uint8_t>& packet) {
    lan_.Receive(port_, BuildEthernetFrame(gateway_mac_, Mac(2), kEtherTypeIpv4, packet));
  }
  template <typename Done>
  bool PumpUntil(Done done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done() && std::chrono::steady_clock::now() < deadline) (void)loop_.RunOnce(1);
    return done();
  }

  Switch& lan_;
  EventLoop& loop_;
  MacAddress gateway_mac_;
  uint16_t server_port_;
  PortId port_ = 0;
  std::vector<uint8_t> data_ = std::vector<uint8_t>(kMss, 'd');
  bool connected_ = false;
  uint32_t peer_seq_ = 0;
  uint32_t una_ = 1001, nxt_ = 1001;  // ISN 1000
  uint32_t window_ = 0;
  std::chrono::steady_clock::time_point last_progress_;
};

void BM_SlirpTcpBulk(benchmark::State& state) {
  auto loop = EventLoop::Create();
  if (!loop.ok()) return state.SkipWithError("event loop");
  Switch lan;
  Gateway gateway(lan, GatewayConfig{}, nullptr);
  auto egress =
      SlirpEgress::Create(**loop, gateway, SlirpEgressOptions::ForGateway(gateway.config()));
  if (!egress.ok()) return state.SkipWithError(egress.error().message().c_str());
  SinkServer server;
  GuestSender guest(lan, **loop, gateway.config().mac, server.port());
  if (!guest.Connect()) return state.SkipWithError("handshake through slirp failed");
  for (auto _ : state) {
    if (!guest.Send(kChunk)) return state.SkipWithError("stream stalled");
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kChunk));
  auto stats = (*egress)->Stats();
  state.counters["retransmits"] = static_cast<double>(guest.retransmits);
  state.counters["drops"] = static_cast<double>(stats.to_host_dropped + stats.to_lan_dropped);
}
BENCHMARK(BM_SlirpTcpBulk)->UseRealTime()->MinTime(2.0);

void BM_HostLoopbackTcp(benchmark::State& state) {
  SinkServer server;
  UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(server.port());
  if (::connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return state.SkipWithError("connect");
  }
  std::vector<char> data(kChunk, 'd');
  for (auto _ : state) {
    for (size_t sent = 0; sent < kChunk;) {
      ssize_t n = ::send(client.get(), data.data() + sent, kChunk - sent, 0);
      if (n <= 0) return state.SkipWithError("send");
      sent += static_cast<size_t>(n);
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kChunk));
}
BENCHMARK(BM_HostLoopbackTcp)->UseRealTime()->MinTime(1.0);

}  // namespace

BENCHMARK_MAIN();
