// vk-agent's DHCP client: the guest asks the LAN for an address at boot
// (RFC 2131 DISCOVER -> OFFER -> REQUEST -> ACK, options per RFC 2132).
// The agent links nothing from src/net, so this is its own small codec.
// All IPv4 addresses here are uint32_t in host byte order (192.168.127.2 is
// 0xc0a87f02).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vk::agent {

using MacAddress = std::array<uint8_t, 6>;

// resolv.conf reads at most 3 nameservers (MAXNS); more are never used.
constexpr size_t kMaxDnsServers = 3;

struct DhcpLease {
  uint32_t ip = 0;
  uint8_t prefix_len = 0;
  uint32_t router = 0;  // 0: none offered
  std::vector<uint32_t> dns_servers;
  std::string domain;    // option 15, only if a valid DNS name
  std::string hostname;  // option 12, only if a valid DNS name
  uint16_t mtu = 0;      // 0: not offered
  // Option 51; 0: not offered, kDhcpInfiniteLease: never expires.
  uint32_t lease_seconds = 0;
  uint32_t renewal_seconds = 0;    // T1, option 58; 0: not offered
  uint32_t rebinding_seconds = 0;  // T2, option 59; 0: not offered
  uint32_t server_id = 0;
};

// RFC 2131 §3.3: a lease of 0xffffffff seconds is infinite.
constexpr uint32_t kDhcpInfiniteLease = 0xffffffffu;

// Carries DHCP messages (UDP payloads) between the client and the LAN.
class DhcpTransport {
 public:
  virtual ~DhcpTransport() = default;
  // Broadcasts one message from port 68 to 255.255.255.255:67. The IPv4
  // source is the message's ciaddr: 0.0.0.0 until the client is bound, its
  // own address when it renews (RFC 2131 §4.1).
  virtual Result<void> Send(std::span<const uint8_t> udp_payload_broadcast) = 0;
  // One received payload addressed to port 68, nullopt once `timeout` passes
  // with nothing. May return payloads that are not DHCP at all (even empty):
  // the client checks every one.
  virtual Result<std::optional<std::vector<uint8_t>>> Receive(
      std::chrono::milliseconds timeout) = 0;
};

struct DhcpClientOptions {
  MacAddress mac{};
  std::string hostname;  // option 12, so the server can register NAME.lan
  uint32_t xid = 0;      // transaction id of the first exchange
  // The only DHCP server to believe (its option 54 identifier), e.g. the
  // router the kernel command line names; 0: the first server that offers,
  // and from then on only that one (a rogue server on a shared LAN cannot
  // answer our REQUEST or a later renewal).
  uint32_t server_id = 0;
  // One send per entry, then wait that long for the answer (RFC 2131 §4.1
  // asks for exponential backoff). All exchanges share total_timeout.
  std::vector<std::chrono::milliseconds> retry_waits{
      std::chrono::seconds(1), std::chrono::seconds(2), std::chrono::seconds(4),
      std::chrono::seconds(8)};
  std::chrono::milliseconds total_timeout{std::chrono::seconds(15)};
  // A NAK restarts from DISCOVER (RFC 2131 §3.1 step 5); this bounds a
  // server that NAKs its own offers forever.
  int max_restarts = 3;
  std::function<std::chrono::steady_clock::time_point()> now = std::chrono::steady_clock::now;
};

// Runs DISCOVER -> OFFER -> REQUEST -> ACK and returns the ACK's lease.
// OFFER, ACK and NAK must carry a server identifier (RFC 2131 §4.3.1 Table 3
// "MUST"); ACK and NAK count only from the server whose OFFER we took, and
// a NAK's restart keeps asking only that server.
Result<DhcpLease> RunDhcpClient(DhcpTransport& transport, const DhcpClientOptions& options);

// The codec, exposed for tests.
enum class DhcpType : uint8_t { kDiscover = 1, kOffer = 2, kRequest = 3, kAck = 5, kNak = 6 };

std::vector<uint8_t> BuildDhcpDiscover(const DhcpClientOptions& options, uint32_t xid);
std::vector<uint8_t> BuildDhcpRequest(const DhcpClientOptions& options, uint32_t xid,
                                      uint32_t requested_ip, uint32_t server_id);
// RENEWING and REBINDING (RFC 2131 §4.3.2): ciaddr is the leased address,
// options 50 and 54 are absent.
std::vector<uint8_t> BuildDhcpRenewal(const DhcpClientOptions& options, uint32_t xid,
                                      uint32_t client_ip);

struct DhcpReply {
  DhcpType type = DhcpType::kNak;
  DhcpLease lease;  // yiaddr and options; for a NAK only server_id
};
// A server's reply to us (op 2, our xid and chaddr, magic cookie, options
// well formed up to the end option); nullopt for anything else.
std::optional<DhcpReply> ParseDhcpReply(std::span<const uint8_t> message, uint32_t xid,
                                        const MacAddress& mac);

// Reads the transport until `until` for a reply to `xid` that `accept`
// takes; anything else is dropped. nullopt: none came in time.
Result<std::optional<DhcpReply>> AwaitDhcpReply(DhcpTransport& transport,
                                                const DhcpClientOptions& options, uint32_t xid,
                                                const std::function<bool(const DhcpReply&)>& accept,
                                                std::chrono::steady_clock::time_point until);

// IPv4 + UDP framing for the raw socket (RFC 791, RFC 768).
// RFC 1071 one's-complement sum, folded and inverted; `sum` seeds it (the
// UDP pseudo-header).
uint16_t InternetChecksum(std::span<const uint8_t> data, uint32_t sum = 0);

struct UdpDatagram {
  uint32_t src_ip = 0;
  uint32_t dst_ip = 0;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  std::vector<uint8_t> payload;
};
std::vector<uint8_t> BuildIpv4Udp(const UdpDatagram& datagram);
// kSkip: the NIC has not filled the UDP checksum in yet (TP_STATUS_CSUMNOTREADY).
enum class UdpChecksum { kVerify, kSkip };
// Unfragmented IPv4 carrying UDP, headers and checksums valid; link padding
// after the IPv4 total length is dropped.
std::optional<UdpDatagram> ParseIpv4Udp(std::span<const uint8_t> packet, UdpChecksum checksum);

// The real transport: an AF_PACKET socket, needed while the interface has
// no address (the kernel's UDP sockets cannot send from 0.0.0.0 there) and
// kept for renewals. A socket filter passes only UDP to port 68, so the
// guest's other traffic never queues on it.
Result<std::unique_ptr<DhcpTransport>> OpenPacketTransport(const std::string& interface);
Result<MacAddress> InterfaceMac(const std::string& interface);
// A transaction id that differs between machines and boots.
uint32_t RandomXid(const MacAddress& mac);

std::optional<uint32_t> ParseIpv4(std::string_view text);  // strict dotted quad
std::string FormatIpv4(uint32_t ip);
uint32_t PrefixToMask(uint8_t prefix_len);
// A hostname or domain safe to write into resolv.conf (RFC 1123 labels).
bool IsValidDnsName(std::string_view name);

}  // namespace vk::agent
