#include "agent/tcp_reset.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>

#include "base/unique_fd.h"
#include "proto/str_format.h"

namespace vk::agent {

using proto::StrFormat;
namespace {

// Every state with a peer to lose: not LISTEN (no peer), TIME_WAIT (already
// closed) or CLOSE.
constexpr uint32_t kStatesWithPeer =
    ((1u << 13) - 1) & ~((1u << TCP_LISTEN) | (1u << TCP_TIME_WAIT) | (1u << TCP_CLOSE));
// Abuse bound of sorts: a guest with more connections than this is reset in
// rounds by the next request rather than holding the agent's memory.
constexpr size_t kMaxSockets = 65536;

IpAddress AddressFrom(uint8_t family, const uint32_t (&words)[4]) {
  IpAddress address;
  address.family = family;
  std::memcpy(address.bytes.data(), words, family == AF_INET ? 4 : 16);
  return address;
}

TcpSocket SocketFrom(const inet_diag_msg& message) {
  TcpSocket socket;
  socket.family = message.idiag_family;
  socket.state = message.idiag_state;
  socket.local_port = ntohs(message.id.idiag_sport);
  socket.peer_port = ntohs(message.id.idiag_dport);
  socket.local = AddressFrom(socket.family, message.id.idiag_src);
  socket.peer = AddressFrom(socket.family, message.id.idiag_dst);
  socket.interface = message.id.idiag_if;
  socket.cookie = {message.id.idiag_cookie[0], message.id.idiag_cookie[1]};
  return socket;
}

// An IPv6 address that carries an IPv4 one (::ffff:a.b.c.d), as IPv4.
IpAddress Unmapped(const IpAddress& address) {
  static constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (address.family != AF_INET6 || std::memcmp(address.bytes.data(), kMappedPrefix, 12) != 0) {
    return address;
  }
  IpAddress v4;
  v4.family = AF_INET;
  std::memcpy(v4.bytes.data(), address.bytes.data() + 12, 4);
  return v4;
}

bool IsLoopback(const IpAddress& address) {
  if (address.family == AF_INET) return address.bytes[0] == 127;
  static constexpr std::array<uint8_t, 16> kLoopback6 = {0, 0, 0, 0, 0, 0, 0, 0,
                                                         0, 0, 0, 0, 0, 0, 0, 1};
  return address.bytes == kLoopback6;
}

std::vector<IpAddress> OwnAddresses() {
  std::vector<IpAddress> own;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return own;  // then only loopback counts as inside
  for (const ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr) continue;
    IpAddress address;
    address.family = static_cast<uint8_t>(entry->ifa_addr->sa_family);
    if (address.family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(entry->ifa_addr);
      std::memcpy(address.bytes.data(), &in->sin_addr, 4);
    } else if (address.family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(entry->ifa_addr);
      std::memcpy(address.bytes.data(), &in6->sin6_addr, 16);
    } else {
      continue;
    }
    own.push_back(address);
  }
  freeifaddrs(list);
  return own;
}

Result<UniqueFd> OpenSockDiag() {
  UniqueFd fd(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (!fd) return Error::FromErrno("open a NETLINK_SOCK_DIAG socket");
  // The kernel answers at once; a missing answer must not hang the agent.
  timeval timeout{5, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  return fd;
}

struct DiagRequest {
  nlmsghdr header;
  inet_diag_req_v2 body;
};

Result<void> SendRequest(int fd, const DiagRequest& request) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd, &request, sizeof(request), 0, reinterpret_cast<sockaddr*>(&kernel),
             sizeof(kernel)) != static_cast<ssize_t>(sizeof(request))) {
    return Error::FromErrno("send a sock_diag request");
  }
  return Ok();
}

Result<std::vector<TcpSocket>> ListTcpSockets(int fd, uint8_t family) {
  DiagRequest request{};
  request.header.nlmsg_len = sizeof(request);
  request.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.body.sdiag_family = family;
  request.body.sdiag_protocol = IPPROTO_TCP;
  request.body.idiag_states = kStatesWithPeer;
  VK_TRY(SendRequest(fd, request));
  std::vector<TcpSocket> sockets;
  // Larger than any dump datagram (the kernel fills at most 32 KiB), so none
  // is cut short.
  std::vector<uint8_t> buffer(64 * 1024);
  for (bool done = false; !done && sockets.size() < kMaxSockets;) {
    const ssize_t got = recv(fd, buffer.data(), buffer.size(), 0);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Error::FromErrno("read the TCP socket list");
    if (got == 0) return Error("the kernel ended the TCP socket list early");
    done = VK_TRY(ParseSockDiagDump({buffer.data(), static_cast<size_t>(got)}, &sockets));
  }
  return sockets;
}

// SOCK_DESTROY of one socket; one that is gone meanwhile (ENOENT) is fine.
Result<void> DestroyTcpSocket(int fd, const TcpSocket& socket) {
  DiagRequest request{};
  request.header.nlmsg_len = sizeof(request);
  request.header.nlmsg_type = SOCK_DESTROY;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  request.body.sdiag_family = socket.family;
  request.body.sdiag_protocol = IPPROTO_TCP;
  request.body.id.idiag_sport = htons(socket.local_port);
  request.body.id.idiag_dport = htons(socket.peer_port);
  std::memcpy(request.body.id.idiag_src, socket.local.bytes.data(), 16);
  std::memcpy(request.body.id.idiag_dst, socket.peer.bytes.data(), 16);
  request.body.id.idiag_if = socket.interface;
  request.body.id.idiag_cookie[0] = socket.cookie[0];
  request.body.id.idiag_cookie[1] = socket.cookie[1];
  VK_TRY(SendRequest(fd, request));
  struct {
    nlmsghdr header;
    nlmsgerr error;
  } ack{};
  const ssize_t got = recv(fd, &ack, sizeof(ack), 0);
  if (got < static_cast<ssize_t>(sizeof(ack)) || ack.header.nlmsg_type != NLMSG_ERROR) {
    return Error::FromErrno("read the SOCK_DESTROY answer");
  }
  if (ack.error.error == 0 || ack.error.error == -ENOENT) return Ok();
  return Error::FromErrno(StrFormat("reset the TCP connection from port {} to port {}",
                                    socket.local_port, socket.peer_port),
                          -ack.error.error);
}

}  // namespace

bool PeerIsInside(const TcpSocket& socket, std::span<const IpAddress> own) {
  const IpAddress peer = Unmapped(socket.peer);
  if (IsLoopback(peer)) return true;
  for (const IpAddress& address : own) {
    if (Unmapped(address) == peer) return true;
  }
  return false;
}

Result<bool> ParseSockDiagDump(std::span<const uint8_t> datagram, std::vector<TcpSocket>* out) {
  size_t at = 0;
  while (datagram.size() - at >= sizeof(nlmsghdr)) {
    nlmsghdr header;
    std::memcpy(&header, datagram.data() + at, sizeof(header));
    if (header.nlmsg_len < sizeof(header) || header.nlmsg_len > datagram.size() - at) {
      return Error("malformed sock_diag answer (a message's length is out of bounds)");
    }
    const auto payload = datagram.subspan(at + sizeof(header), header.nlmsg_len - sizeof(header));
    if (header.nlmsg_type == NLMSG_DONE) return true;
    if (header.nlmsg_type == NLMSG_ERROR) {
      nlmsgerr error{};
      if (payload.size() < sizeof(error)) return Error("truncated sock_diag error");
      std::memcpy(&error, payload.data(), sizeof(error));
      if (error.error == 0) return true;  // an acknowledgement ends it too
      return Error::FromErrno("list TCP sockets", -error.error);
    }
    if (header.nlmsg_type == SOCK_DIAG_BY_FAMILY && payload.size() >= sizeof(inet_diag_msg)) {
      inet_diag_msg message;
      std::memcpy(&message, payload.data(), sizeof(message));
      if (message.idiag_family == AF_INET || message.idiag_family == AF_INET6) {
        out->push_back(SocketFrom(message));
      }
    }
    at += std::min<size_t>(NLMSG_ALIGN(header.nlmsg_len), datagram.size() - at);
  }
  return false;
}

Result<size_t> ResetTcpSockets(const std::function<bool(const TcpSocket&)>& reset) {
  UniqueFd fd = VK_TRY(OpenSockDiag());
  size_t count = 0;
  for (uint8_t family : {uint8_t{AF_INET}, uint8_t{AF_INET6}}) {
    auto sockets = ListTcpSockets(fd.get(), family);
    // A kernel without IPv6 has no AF_INET6 sockets to list.
    if (!sockets.ok() && family == AF_INET6 && sockets.error().errno_value() == ENOENT) continue;
    for (const TcpSocket& socket : VK_TRY(std::move(sockets))) {
      if (!reset(socket)) continue;
      VK_TRY(DestroyTcpSocket(fd.get(), socket));
      ++count;
    }
  }
  return count;
}

Result<size_t> ResetOutsideTcpConnections() {
  const std::vector<IpAddress> own = OwnAddresses();
  return ResetTcpSockets([&own](const TcpSocket& socket) { return !PeerIsInside(socket, own); });
}

}  // namespace vk::agent
