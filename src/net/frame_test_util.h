// Helpers for network tests: a recording FrameSink, a settable clock and
// builders for the frames a guest would send.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/event_loop.h"
#include "base/frame_sink.h"
#include "base/unique_fd.h"
#include "net/dhcp_message.h"
#include "net/dns_message.h"
#include "net/ethernet.h"
#include "net/frame_clock.h"
#include "net/ipv4.h"
#include "net/tcp_header.h"
#include "net/udp.h"

namespace vk::net::testing {

class RecordingSink : public FrameSink {
 public:
  bool Deliver(Bytes frame) override {
    frames.emplace_back(frame.begin(), frame.end());
    return accept;
  }
  std::vector<std::vector<uint8_t>> frames;
  bool accept = true;
};

class FakeClock {
 public:
  Clock clock() {
    return [this] { return now; };
  }
  void Advance(std::chrono::seconds by) { now += by; }
  TimePoint now = TimePoint() + std::chrono::hours(1);
};

inline MacAddress Mac(uint8_t last) { return {{0x52, 0x54, 0x00, 0x12, 0x34, last}}; }

inline std::vector<uint8_t> Frame(const MacAddress& dst, const MacAddress& src,
                                  uint16_t type = kEtherTypeIpv4, size_t payload = 46) {
  return BuildEthernetFrame(dst, src, type, std::vector<uint8_t>(payload, 0xab));
}

inline std::vector<uint8_t> UdpFrame(const MacAddress& dst, const MacAddress& src, uint32_t src_ip,
                                     uint32_t dst_ip, uint16_t src_port, uint16_t dst_port,
                                     Bytes payload) {
  return BuildEthernetFrame(dst, src, kEtherTypeIpv4,
                            BuildUdpPacket(src_ip, dst_ip, src_port, dst_port, payload));
}

// Splits a frame the gateway sent into its UDP payload (nullopt if not UDP).
struct UdpOut {
  EthernetHeader ethernet;
  Ipv4Header ip;
  UdpDatagram udp;
  std::vector<uint8_t> payload;
};
inline std::optional<UdpOut> ParseUdpFrame(const std::vector<uint8_t>& frame) {
  auto ethernet = ParseEthernet(frame);
  if (!ethernet.ok() || ethernet->header.ether_type != kEtherTypeIpv4) return std::nullopt;
  auto ip = ParseIpv4Packet(ethernet->payload);
  if (!ip.ok()) return std::nullopt;
  auto udp = ParseUdp(*ip);
  if (!udp.ok()) return std::nullopt;
  return UdpOut{ethernet->header, ip->header, *udp,
                std::vector<uint8_t>(udp->payload.begin(), udp->payload.end())};
}

inline DhcpMessage DhcpRequestMessage(DhcpType type, const MacAddress& mac, uint32_t xid = 0x1234) {
  DhcpMessage message;
  message.op = 1;
  message.xid = xid;
  message.chaddr = mac;
  message.options[kDhcpOptMessageType] = {static_cast<uint8_t>(type)};
  return message;
}

// A recursive-desired query for `name` (dotted, no trailing dot).
inline std::vector<uint8_t> DnsQuery(const std::string& name, uint16_t type = kDnsTypeA,
                                     uint16_t id = 0x4242) {
  std::vector<uint8_t> out;
  ByteWriter writer(out);
  writer.U16(id);
  writer.U16(kDnsFlagRd);
  writer.U16(1);
  writer.U16(0);
  writer.U16(0);
  writer.U16(0);
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    writer.U8(static_cast<uint8_t>(dot - start));
    for (size_t i = start; i < dot; ++i) writer.U8(static_cast<uint8_t>(name[i]));
    start = dot + 1;
  }
  writer.U8(0);
  writer.U16(type);
  writer.U16(kDnsClassIn);
  return out;
}

// Runs `loop` until `done` or `limit`; true if done.
inline bool PumpUntil(EventLoop& loop, const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    if (!loop.RunOnce(10).ok()) return false;
  }
  return done();
}

// A nonblocking loopback socket of `type` bound to a free port (in `port`).
inline UniqueFd BoundLoopbackSocket(int type, uint16_t* port) {
  UniqueFd fd(::socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return {};
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return fd;
}

// A TCP segment a guest would send, and the TCP frames it receives.
inline std::vector<uint8_t> TcpPacket(uint32_t src, uint32_t dst, uint16_t src_port,
                                      uint16_t dst_port, uint32_t seq, uint32_t ack, uint8_t flags,
                                      Bytes payload = {}) {
  TcpHeader header{src_port, dst_port, seq, ack, kTcpMinHeader, flags, 65535};
  return BuildTcpPacket(src, dst, header, payload);
}

struct TcpOut {
  Ipv4Header ip;
  TcpHeader tcp;
  std::vector<uint8_t> payload;
};
inline std::optional<TcpOut> ParseTcpFrame(const std::vector<uint8_t>& frame) {
  auto ethernet = ParseEthernet(frame);
  if (!ethernet.ok() || ethernet->header.ether_type != kEtherTypeIpv4) return std::nullopt;
  auto ip = ParseIpv4Packet(ethernet->payload);
  if (!ip.ok() || ip->header.protocol != kIpProtoTcp) return std::nullopt;
  auto tcp = ParseTcp(*ip);
  if (!tcp.ok()) return std::nullopt;
  return TcpOut{ip->header, tcp->header, {tcp->payload.begin(), tcp->payload.end()}};
}

}  // namespace vk::net::testing
