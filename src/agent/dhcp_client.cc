#include "agent/dhcp_client.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>

#include "base/strings.h"
#include "base/unique_fd.h"
#include "proto/str_format.h"

namespace vk::agent {

using proto::StrFormat;
namespace {

// RFC 2131 §2, Figure 1: fixed header offsets.
constexpr size_t kOpOffset = 0;
constexpr size_t kHtypeOffset = 1;
constexpr size_t kHlenOffset = 2;
constexpr size_t kXidOffset = 4;
constexpr size_t kCiaddrOffset = 12;
constexpr size_t kYiaddrOffset = 16;
constexpr size_t kChaddrOffset = 28;
constexpr size_t kCookieOffset = 236;
constexpr size_t kOptionsOffset = 240;
constexpr uint8_t kBootRequest = 1, kBootReply = 2;
constexpr uint8_t kHtypeEthernet = 1;
// RFC 2131 §3: the "magic cookie" 99.130.83.99 opens the options field.
constexpr uint8_t kMagicCookie[] = {99, 130, 83, 99};
// RFC 1542 §3.2.1: some relays drop BOOTP messages shorter than 300 bytes.
constexpr size_t kMinMessageSize = 300;

// RFC 2132 option codes.
constexpr uint8_t kOptPad = 0, kOptSubnetMask = 1, kOptRouter = 3, kOptDns = 6, kOptHostName = 12,
                  kOptDomainName = 15, kOptMtu = 26, kOptRequestedIp = 50, kOptLeaseTime = 51,
                  kOptMessageType = 53, kOptServerId = 54, kOptParameterList = 55,
                  kOptRenewalTime = 58, kOptRebindingTime = 59, kOptClientId = 61, kOptEnd = 255;
// RFC 2132 §5.1: the smallest MTU an IPv4 link may have.
constexpr uint16_t kMinMtu = 68;
constexpr size_t kMaxDnsName = 253;  // RFC 1035 §2.3.4, without the final dot

using Options = std::map<uint8_t, std::vector<uint8_t>>;

void PutU32(std::vector<uint8_t>& out, size_t at, uint32_t value) {
  for (int i = 0; i < 4; ++i) out[at + i] = static_cast<uint8_t>(value >> (24 - 8 * i));
}

uint32_t GetU32(std::span<const uint8_t> in, size_t at) {
  return uint32_t{in[at]} << 24 | uint32_t{in[at + 1]} << 16 | uint32_t{in[at + 2]} << 8 |
         in[at + 3];
}

void AddOption(std::vector<uint8_t>& out, uint8_t code, std::span<const uint8_t> value) {
  const size_t length = std::min<size_t>(value.size(), 255);  // one-byte length
  out.push_back(code);
  out.push_back(static_cast<uint8_t>(length));
  out.insert(out.end(), value.begin(), value.begin() + length);
}

void AddIpOption(std::vector<uint8_t>& out, uint8_t code, uint32_t ip) {
  std::vector<uint8_t> value(4);
  PutU32(value, 0, ip);
  AddOption(out, code, value);
}

std::vector<uint8_t> BuildMessage(const DhcpClientOptions& options, uint32_t xid, DhcpType type) {
  std::vector<uint8_t> out(kOptionsOffset, 0);
  out[kOpOffset] = kBootRequest;
  out[kHtypeOffset] = kHtypeEthernet;
  out[kHlenOffset] = options.mac.size();
  PutU32(out, kXidOffset, xid);
  // flags stay 0: the packet socket sees unicast replies to our MAC, so the
  // server need not broadcast them (RFC 2131 §4.1).
  std::copy(options.mac.begin(), options.mac.end(), out.begin() + kChaddrOffset);
  std::copy(std::begin(kMagicCookie), std::end(kMagicCookie), out.begin() + kCookieOffset);
  const uint8_t message_type = static_cast<uint8_t>(type);
  AddOption(out, kOptMessageType, std::span(&message_type, 1));
  // RFC 2132 §9.14: type 1 (Ethernet) followed by the hardware address.
  std::vector<uint8_t> client_id{kHtypeEthernet};
  client_id.insert(client_id.end(), options.mac.begin(), options.mac.end());
  AddOption(out, kOptClientId, client_id);
  if (!options.hostname.empty()) {
    AddOption(out, kOptHostName,
              std::span(reinterpret_cast<const uint8_t*>(options.hostname.data()),
                        options.hostname.size()));
  }
  const uint8_t wanted[] = {kOptSubnetMask, kOptRouter,     kOptDns,
                            kOptHostName,   kOptDomainName, kOptMtu};
  AddOption(out, kOptParameterList, wanted);
  return out;
}

void Finish(std::vector<uint8_t>& out) {
  out.push_back(kOptEnd);
  if (out.size() < kMinMessageSize) out.resize(kMinMessageSize, kOptPad);
}

// RFC 2132 §2: code, length, value; pad and end have no length. A long
// option may be split across several instances (RFC 3396 §5): they are
// concatenated. Options in sname/file (overload, option 52) are ignored.
std::optional<Options> ParseOptions(std::span<const uint8_t> bytes) {
  Options options;
  size_t at = 0;
  while (at < bytes.size()) {
    const uint8_t code = bytes[at++];
    if (code == kOptPad) continue;
    if (code == kOptEnd) return options;
    if (at >= bytes.size()) return std::nullopt;  // guest-visible: truncated
    const size_t length = bytes[at++];
    if (length > bytes.size() - at) return std::nullopt;
    auto& value = options[code];
    value.insert(value.end(), bytes.begin() + at, bytes.begin() + at + length);
    at += length;
  }
  return std::nullopt;  // no end option: the message was cut short
}

std::optional<uint8_t> MaskToPrefix(uint32_t mask) {
  const uint8_t prefix = static_cast<uint8_t>(__builtin_popcount(mask));
  if (PrefixToMask(prefix) != mask) return std::nullopt;  // not contiguous
  return prefix;
}

// No option 1: the classful default (RFC 791 §2.3), as the kernel's own
// ipconfig client assumes.
uint8_t ClassfulPrefix(uint32_t ip) {
  if ((ip >> 31) == 0) return 8;
  if ((ip >> 30) == 2) return 16;
  return 24;
}

std::optional<uint32_t> IpOption(const Options& options, uint8_t code) {
  auto it = options.find(code);
  if (it == options.end() || it->second.size() < 4) return std::nullopt;
  return GetU32(it->second, 0);
}

// RFC 2132 §9.2, §9.11, §9.12: times are exactly four bytes.
std::optional<uint32_t> U32Option(const Options& options, uint8_t code) {
  auto it = options.find(code);
  if (it == options.end() || it->second.size() != 4) return std::nullopt;
  return GetU32(it->second, 0);
}

std::string NameOption(const Options& options, uint8_t code) {
  auto it = options.find(code);
  if (it == options.end()) return "";
  std::string name(it->second.begin(), it->second.end());
  // Some servers count a terminating NUL (RFC 2132 §3.14 says not to).
  if (!name.empty() && name.back() == '\0') name.pop_back();
  return IsValidDnsName(name) ? name : "";
}

void ReadNetworkOptions(const Options& options, DhcpLease& lease) {
  lease.router = IpOption(options, kOptRouter).value_or(0);
  if (auto it = options.find(kOptDns); it != options.end()) {
    for (size_t at = 0; at + 4 <= it->second.size(); at += 4) {
      if (lease.dns_servers.size() == kMaxDnsServers) break;
      lease.dns_servers.push_back(GetU32(it->second, at));
    }
  }
  lease.domain = NameOption(options, kOptDomainName);
  lease.hostname = NameOption(options, kOptHostName);
  if (auto it = options.find(kOptMtu); it != options.end() && it->second.size() == 2) {
    const uint16_t mtu = static_cast<uint16_t>(it->second[0] << 8 | it->second[1]);
    if (mtu >= kMinMtu) lease.mtu = mtu;
  }
  if (auto seconds = U32Option(options, kOptLeaseTime)) {
    // A lease of 0 s is absurd: 1 keeps 0 meaning "not offered", and the
    // renewal raises it to its minimum.
    lease.lease_seconds = std::max<uint32_t>(*seconds, 1);
  }
  lease.renewal_seconds = U32Option(options, kOptRenewalTime).value_or(0);
  lease.rebinding_seconds = U32Option(options, kOptRebindingTime).value_or(0);
}

// The address part of an OFFER or ACK; nullopt when it is unusable.
std::optional<DhcpLease> ReadLease(std::span<const uint8_t> message, const Options& options) {
  DhcpLease lease;
  lease.ip = GetU32(message, kYiaddrOffset);
  if (lease.ip == 0 || (lease.ip >> 28) >= 0xe) return std::nullopt;  // multicast, reserved
  if (auto mask = IpOption(options, kOptSubnetMask)) {
    auto prefix = MaskToPrefix(*mask);
    if (!prefix || *prefix == 0) return std::nullopt;
    lease.prefix_len = *prefix;
  } else {
    lease.prefix_len = ClassfulPrefix(lease.ip);
  }
  ReadNetworkOptions(options, lease);
  return lease;
}

bool IsOurReply(std::span<const uint8_t> message, uint32_t xid, const MacAddress& mac) {
  return message.size() >= kOptionsOffset && message[kOpOffset] == kBootReply &&
         message[kHtypeOffset] == kHtypeEthernet && message[kHlenOffset] == mac.size() &&
         GetU32(message, kXidOffset) == xid &&
         std::equal(mac.begin(), mac.end(), message.begin() + kChaddrOffset) &&
         std::equal(std::begin(kMagicCookie), std::end(kMagicCookie),
                    message.begin() + kCookieOffset);
}

struct Expectation {
  uint32_t xid = 0;
  DhcpType want = DhcpType::kOffer;  // kAck also accepts kNak
  uint32_t server_id = 0;            // 0: any server (offers only)
};

bool Accepts(const Expectation& expect, const DhcpReply& reply) {
  // RFC 2131 §4.3.1: OFFER, ACK and NAK MUST carry the server identifier.
  if (reply.lease.server_id == 0) return false;
  if (expect.want == DhcpType::kOffer) {
    return reply.type == DhcpType::kOffer &&
           (expect.server_id == 0 || reply.lease.server_id == expect.server_id);
  }
  if (reply.type != DhcpType::kAck && reply.type != DhcpType::kNak) return false;
  // Only the server we chose answers our REQUEST (RFC 2131 §4.3.2).
  return reply.lease.server_id == expect.server_id;
}

using Clock = std::chrono::steady_clock;

// Sends `message` and waits, resending with backoff, for the reply.
Result<std::optional<DhcpReply>> Exchange(DhcpTransport& transport,
                                          const DhcpClientOptions& options,
                                          std::span<const uint8_t> message,
                                          const Expectation& expect, Clock::time_point deadline) {
  for (const auto wait : options.retry_waits) {
    const auto now = options.now();
    if (now >= deadline) break;
    VK_TRY_CTX(transport.Send(message), "send DHCP message");
    auto reply = VK_TRY(AwaitDhcpReply(
        transport, options, expect.xid, [&](const DhcpReply& r) { return Accepts(expect, r); },
        std::min(now + wait, deadline)));
    if (reply) return reply;
  }
  return std::optional<DhcpReply>();
}

}  // namespace

std::vector<uint8_t> BuildDhcpDiscover(const DhcpClientOptions& options, uint32_t xid) {
  std::vector<uint8_t> out = BuildMessage(options, xid, DhcpType::kDiscover);
  Finish(out);
  return out;
}

// RFC 2131 §4.3.2 SELECTING: options 50 and 54, ciaddr 0, same xid.
std::vector<uint8_t> BuildDhcpRequest(const DhcpClientOptions& options, uint32_t xid,
                                      uint32_t requested_ip, uint32_t server_id) {
  std::vector<uint8_t> out = BuildMessage(options, xid, DhcpType::kRequest);
  AddIpOption(out, kOptRequestedIp, requested_ip);
  AddIpOption(out, kOptServerId, server_id);
  Finish(out);
  return out;
}

// RFC 2131 §4.3.2 RENEWING/REBINDING: the client is bound and says so in
// ciaddr; requested address and server identifier MUST NOT be sent.
std::vector<uint8_t> BuildDhcpRenewal(const DhcpClientOptions& options, uint32_t xid,
                                      uint32_t client_ip) {
  std::vector<uint8_t> out = BuildMessage(options, xid, DhcpType::kRequest);
  PutU32(out, kCiaddrOffset, client_ip);
  Finish(out);
  return out;
}

std::optional<DhcpReply> ParseDhcpReply(std::span<const uint8_t> message, uint32_t xid,
                                        const MacAddress& mac) {
  if (!IsOurReply(message, xid, mac)) return std::nullopt;
  auto options = ParseOptions(message.subspan(kOptionsOffset));
  if (!options) return std::nullopt;
  auto type = options->find(kOptMessageType);
  if (type == options->end() || type->second.size() != 1) return std::nullopt;
  DhcpReply reply;
  reply.type = static_cast<DhcpType>(type->second[0]);
  if (reply.type == DhcpType::kNak) {
    reply.lease.server_id = IpOption(*options, kOptServerId).value_or(0);
    return reply;
  }
  if (reply.type != DhcpType::kOffer && reply.type != DhcpType::kAck) return std::nullopt;
  auto lease = ReadLease(message, *options);
  if (!lease) return std::nullopt;
  reply.lease = std::move(*lease);
  reply.lease.server_id = IpOption(*options, kOptServerId).value_or(0);
  return reply;
}

Result<std::optional<DhcpReply>> AwaitDhcpReply(DhcpTransport& transport,
                                                const DhcpClientOptions& options, uint32_t xid,
                                                const std::function<bool(const DhcpReply&)>& accept,
                                                Clock::time_point until) {
  for (Clock::time_point now = options.now(); now < until; now = options.now()) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - now);
    auto packet = VK_TRY(transport.Receive(left));
    if (!packet) break;
    auto reply = ParseDhcpReply(*packet, xid, options.mac);
    if (reply && accept(*reply)) return reply;
  }
  return std::optional<DhcpReply>();
}

Result<DhcpLease> RunDhcpClient(DhcpTransport& transport, const DhcpClientOptions& options) {
  const auto deadline = options.now() + options.total_timeout;
  uint32_t xid = options.xid;
  uint32_t server = options.server_id;  // pinned by the first offer we take
  for (int attempt = 0; attempt <= options.max_restarts; ++attempt, ++xid) {
    auto offer = VK_TRY(Exchange(transport, options, BuildDhcpDiscover(options, xid),
                                 {xid, DhcpType::kOffer, server}, deadline));
    if (!offer) return Error("no DHCP offer (is the VM attached to a LAN with a DHCP server?)");
    const DhcpLease& offered = offer->lease;
    server = offered.server_id;
    auto answer = VK_TRY(Exchange(transport, options,
                                  BuildDhcpRequest(options, xid, offered.ip, offered.server_id),
                                  {xid, DhcpType::kAck, offered.server_id}, deadline));
    if (!answer) {
      return Error(StrFormat("DHCP server {} offered {} but did not acknowledge it",
                             FormatIpv4(offered.server_id), FormatIpv4(offered.ip)));
    }
    if (answer->type == DhcpType::kAck) return std::move(answer->lease);
    // NAK: RFC 2131 §4.4.1 "restarts the configuration process", new xid.
  }
  return Error(
      StrFormat("DHCP server refused the offered address {} times", options.max_restarts + 1));
}

std::optional<uint32_t> ParseIpv4(std::string_view text) {
  const std::vector<std::string> parts = Split(text, '.');
  if (parts.size() != 4) return std::nullopt;
  uint32_t ip = 0;
  for (const std::string& part : parts) {
    // No leading zeros: inet_aton would read "010" as octal.
    if (part.size() > 3 || (part.size() > 1 && part[0] == '0')) return std::nullopt;
    auto byte = ParseUint(part);
    if (!byte || *byte > 255) return std::nullopt;
    ip = ip << 8 | static_cast<uint32_t>(*byte);
  }
  return ip;
}

std::string FormatIpv4(uint32_t ip) {
  return StrFormat("{}.{}.{}.{}", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

uint32_t PrefixToMask(uint8_t prefix_len) {
  if (prefix_len == 0) return 0;
  if (prefix_len >= 32) return 0xffffffffu;
  return ~((uint32_t{1} << (32 - prefix_len)) - 1);
}

bool IsValidDnsName(std::string_view name) {
  if (name.empty() || name.size() > kMaxDnsName) return false;
  for (const std::string& label : Split(name, '.')) {
    // RFC 1123 §2.1: letters, digits and inner hyphens, 1 to 63 characters.
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
  }
  return true;
}

namespace {

// RFC 791 §3.1 and RFC 768 header layouts.
constexpr size_t kIpHeaderSize = 20;
constexpr size_t kUdpHeaderSize = 8;
constexpr uint8_t kIpVersionIhl = 0x45;  // version 4, 5 words, no options
constexpr uint8_t kTtl = 64;
constexpr uint8_t kProtocolUdp = 17;
constexpr uint16_t kFragmentMask = 0x3fff;  // MF flag and fragment offset
constexpr uint16_t kDhcpServerPort = 67, kDhcpClientPort = 68;
// Replies are a few hundred bytes; a larger datagram is not one of them.
constexpr size_t kReceiveBuffer = 4096;

uint16_t GetU16(std::span<const uint8_t> in, size_t at) {
  return static_cast<uint16_t>(in[at] << 8 | in[at + 1]);
}

void PutU16(std::span<uint8_t> out, size_t at, uint16_t value) {
  out[at] = static_cast<uint8_t>(value >> 8);
  out[at + 1] = static_cast<uint8_t>(value);
}

// RFC 768: the UDP checksum also covers source, destination, protocol and
// UDP length.
uint32_t PseudoHeaderSum(uint32_t src, uint32_t dst, uint16_t udp_length) {
  return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + kProtocolUdp + udp_length;
}

std::optional<std::vector<uint8_t>> NotOurs() { return std::vector<uint8_t>(); }

// Without a filter the socket would queue a copy of every IPv4 packet the
// guest receives for as long as it is open (hours, between renewals), and a
// queue full of the workload's traffic drops the server's reply. Classic BPF
// (SO_ATTACH_FILTER, socket(7)); on a SOCK_DGRAM packet socket offset 0 is
// the IPv4 header. Passes unfragmented UDP to port 68.
Result<void> AttachDhcpFilter(int fd) {
  sock_filter program[] = {
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),  // protocol
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kProtocolUdp, 0, 6),
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),  // flags and fragment offset
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, kFragmentMask, 4, 0),
      BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),  // X = IPv4 header length
      BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),   // UDP destination port
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kDhcpClientPort, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 0xffffffffu),  // keep the whole packet
      BPF_STMT(BPF_RET | BPF_K, 0),            // drop
  };
  const sock_fprog filter{static_cast<unsigned short>(std::size(program)), program};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &filter, sizeof(filter)) < 0)
    return Error::FromErrno("attach DHCP socket filter");
  return Ok();
}

class PacketTransport final : public DhcpTransport {
 public:
  PacketTransport(UniqueFd fd, int ifindex) : fd_(std::move(fd)), ifindex_(ifindex) {}

  // Renewals are broadcast too, from our address (RFC 2131 §4.1 allows a
  // broadcast REQUEST in RENEWING). Unicasting to the server would need its
  // MAC, i.e. ARP done by hand on this socket; on a virtual LAN whose only
  // DHCP server is the gateway (or QEMU's slirp) the broadcast reaches the
  // same server, and our REQUEST's missing option 54 lets it answer.
  Result<void> Send(std::span<const uint8_t> payload) override {
    const uint32_t source =
        payload.size() >= kCiaddrOffset + 4 ? GetU32(payload, kCiaddrOffset) : 0;
    UdpDatagram datagram{source, 0xffffffffu, kDhcpClientPort, kDhcpServerPort,
                         std::vector<uint8_t>(payload.begin(), payload.end())};
    const std::vector<uint8_t> packet = BuildIpv4Udp(datagram);
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_protocol = htons(ETH_P_IP);
    to.sll_ifindex = ifindex_;
    to.sll_halen = ETH_ALEN;
    std::memset(to.sll_addr, 0xff, ETH_ALEN);  // Ethernet broadcast
    if (sendto(fd_.get(), packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&to),
               sizeof(to)) != static_cast<ssize_t>(packet.size())) {
      return Error::FromErrno("send on packet socket");
    }
    return Ok();
  }

  Result<std::optional<std::vector<uint8_t>>> Receive(std::chrono::milliseconds timeout) override {
    pollfd ready{fd_.get(), POLLIN, 0};
    const int count = poll(&ready, 1, static_cast<int>(timeout.count()));
    if (count == 0) return std::optional<std::vector<uint8_t>>();
    if (count < 0) {
      if (errno == EINTR) return NotOurs();
      return Error::FromErrno("wait for DHCP reply");
    }
    return ReadOne();
  }

 private:
  Result<std::optional<std::vector<uint8_t>>> ReadOne() {
    std::vector<uint8_t> buffer(kReceiveBuffer);
    sockaddr_ll from{};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(tpacket_auxdata))];
    iovec io{buffer.data(), buffer.size()};
    msghdr message{&from, sizeof(from), &io, 1, control, sizeof(control), 0};
    const ssize_t got = recvmsg(fd_.get(), &message, MSG_TRUNC | MSG_DONTWAIT);
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) return NotOurs();
      return Error::FromErrno("receive on packet socket");
    }
    if (static_cast<size_t>(got) > buffer.size() || from.sll_pkttype == PACKET_OUTGOING)
      return NotOurs();
    auto datagram =
        ParseIpv4Udp(std::span(buffer.data(), static_cast<size_t>(got)), ChecksumMode(message));
    if (!datagram || datagram->src_port != kDhcpServerPort ||
        datagram->dst_port != kDhcpClientPort) {
      return NotOurs();
    }
    return std::optional(std::move(datagram->payload));
  }

  // Packets from a local sender (a veth peer, a virtio-net host that
  // offloads) may carry a UDP checksum nobody has filled in yet.
  static UdpChecksum ChecksumMode(msghdr& message) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
      if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA) continue;
      tpacket_auxdata aux;
      std::memcpy(&aux, CMSG_DATA(c), sizeof(aux));
      if (aux.tp_status & TP_STATUS_CSUMNOTREADY) return UdpChecksum::kSkip;
    }
    return UdpChecksum::kVerify;
  }

  UniqueFd fd_;
  int ifindex_;
};

}  // namespace

uint16_t InternetChecksum(std::span<const uint8_t> data, uint32_t sum) {
  uint64_t total = sum;
  for (size_t at = 0; at + 1 < data.size(); at += 2) total += GetU16(data, at);
  if (data.size() % 2 != 0) total += uint32_t{data.back()} << 8;  // padded with zero
  while (total >> 16) total = (total & 0xffff) + (total >> 16);
  return static_cast<uint16_t>(~total);
}

std::vector<uint8_t> BuildIpv4Udp(const UdpDatagram& datagram) {
  const size_t udp_length = kUdpHeaderSize + datagram.payload.size();
  std::vector<uint8_t> out(kIpHeaderSize + udp_length, 0);
  std::span<uint8_t> ip(out.data(), kIpHeaderSize);
  ip[0] = kIpVersionIhl;
  PutU16(ip, 2, static_cast<uint16_t>(out.size()));
  ip[8] = kTtl;
  ip[9] = kProtocolUdp;
  PutU32(out, 12, datagram.src_ip);
  PutU32(out, 16, datagram.dst_ip);
  PutU16(ip, 10, InternetChecksum(ip));
  std::span<uint8_t> udp(out.data() + kIpHeaderSize, udp_length);
  PutU16(udp, 0, datagram.src_port);
  PutU16(udp, 2, datagram.dst_port);
  PutU16(udp, 4, static_cast<uint16_t>(udp_length));
  std::copy(datagram.payload.begin(), datagram.payload.end(), udp.begin() + kUdpHeaderSize);
  const uint16_t sum = InternetChecksum(
      udp, PseudoHeaderSum(datagram.src_ip, datagram.dst_ip, static_cast<uint16_t>(udp_length)));
  PutU16(udp, 6, sum == 0 ? 0xffff : sum);  // RFC 768: 0 means "no checksum"
  return out;
}

std::optional<UdpDatagram> ParseIpv4Udp(std::span<const uint8_t> packet, UdpChecksum checksum) {
  if (packet.size() < kIpHeaderSize || (packet[0] >> 4) != 4) return std::nullopt;
  const size_t header_size = (packet[0] & 0xf) * 4u;
  const size_t total = GetU16(packet, 2);
  if (header_size < kIpHeaderSize || total < header_size + kUdpHeaderSize || total > packet.size())
    return std::nullopt;
  if (InternetChecksum(packet.first(header_size)) != 0) return std::nullopt;
  // We never reassemble: a DHCP reply fits in one 576-byte datagram.
  if ((GetU16(packet, 6) & kFragmentMask) != 0 || packet[9] != kProtocolUdp) return std::nullopt;
  UdpDatagram datagram{GetU32(packet, 12), GetU32(packet, 16), 0, 0, {}};
  std::span<const uint8_t> udp = packet.subspan(header_size, total - header_size);
  const size_t udp_length = GetU16(udp, 4);
  if (udp_length < kUdpHeaderSize || udp_length > udp.size()) return std::nullopt;
  udp = udp.first(udp_length);
  if (checksum == UdpChecksum::kVerify && GetU16(udp, 6) != 0 &&
      InternetChecksum(udp, PseudoHeaderSum(datagram.src_ip, datagram.dst_ip,
                                            static_cast<uint16_t>(udp_length))) != 0) {
    return std::nullopt;
  }
  datagram.src_port = GetU16(udp, 0);
  datagram.dst_port = GetU16(udp, 2);
  datagram.payload.assign(udp.begin() + kUdpHeaderSize, udp.end());
  return datagram;
}

Result<std::unique_ptr<DhcpTransport>> OpenPacketTransport(const std::string& interface) {
  const unsigned index = if_nametoindex(interface.c_str());
  if (index == 0) return Error::FromErrno(StrFormat("find interface {}", interface));
  // Protocol 0 receives nothing until bind() names ETH_P_IP and the
  // interface, so no other interface's packets are ever queued.
  UniqueFd fd(socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return Error::FromErrno("create packet socket (kernel without CONFIG_PACKET?)");
  const int on = 1;
  if (setsockopt(fd.get(), SOL_PACKET, PACKET_AUXDATA, &on, sizeof(on)) < 0)
    return Error::FromErrno("enable PACKET_AUXDATA");
  VK_TRY(AttachDhcpFilter(fd.get()));  // before bind(): nothing unfiltered queues
  sockaddr_ll at{};
  at.sll_family = AF_PACKET;
  at.sll_protocol = htons(ETH_P_IP);
  at.sll_ifindex = static_cast<int>(index);
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&at), sizeof(at)) < 0)
    return Error::FromErrno(StrFormat("bind packet socket to {}", interface));
  return std::unique_ptr<DhcpTransport>(
      std::make_unique<PacketTransport>(std::move(fd), static_cast<int>(index)));
}

Result<MacAddress> InterfaceMac(const std::string& interface) {
  UniqueFd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) return Error::FromErrno("socket for interface queries");
  ifreq request{};
  std::strncpy(request.ifr_name, interface.c_str(), IFNAMSIZ - 1);
  if (ioctl(sock.get(), SIOCGIFHWADDR, &request) < 0)
    return Error::FromErrno(StrFormat("read the MAC address of {}", interface));
  MacAddress mac;
  std::memcpy(mac.data(), request.ifr_hwaddr.sa_data, mac.size());
  return mac;
}

uint32_t RandomXid(const MacAddress& mac) {
  uint32_t xid = 0;
  // Early in boot the pool may not be ready: never block PID 1 on it.
  if (getrandom(&xid, sizeof(xid), GRND_NONBLOCK) == sizeof(xid)) return xid;
  xid = static_cast<uint32_t>(Clock::now().time_since_epoch().count());
  for (size_t i = 0; i < mac.size(); ++i) xid ^= uint32_t{mac[i]} << (8 * (i % 4));
  return xid;
}

}  // namespace vk::agent
