// Resetting the guest's TCP connections to the outside after `vk restore`
// (docs/snapshots.md, "Checkpoints"). A restored guest's sockets are those of
// the checkpoint's moment, but their other ends are gone: the egress's host
// sockets died with the old VMM, and a LAN peer has moved on (or was
// restored from another moment). A program blocked in recv() on such a
// connection would wait forever, since only its next send would meet a RST.
// The agent destroys those sockets through NETLINK_SOCK_DIAG's SOCK_DESTROY
// (CONFIG_INET_DIAG_DESTROY): blocked calls fail with ECONNABORTED at once
// and the kernel sends the peer a RST, which a peer still in step accepts.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "base/result.h"

namespace vk::agent {

// An IPv4 or IPv6 address (IPv4 in the first 4 bytes).
struct IpAddress {
  uint8_t family = 0;  // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};
  bool operator==(const IpAddress&) const = default;
};

// One TCP socket as sock_diag reports it: enough to name it to SOCK_DESTROY.
struct TcpSocket {
  uint8_t family = 0;
  uint8_t state = 0;  // TCP_ESTABLISHED, ...
  uint16_t local_port = 0;
  uint16_t peer_port = 0;
  IpAddress local;
  IpAddress peer;
  uint32_t interface = 0;
  std::array<uint32_t, 2> cookie{};  // the kernel's id, so a reused 4-tuple is never hit
};

// Whether the peer is inside the VM: a loopback address (127/8, ::1, or
// 127/8 mapped into IPv6) or one of `own` (the VM's interface addresses).
// Connections to such peers survive a restore whole, both ends saved.
bool PeerIsInside(const TcpSocket& socket, std::span<const IpAddress> own);

// Parses one datagram of a NETLINK_SOCK_DIAG dump reply, appending its
// sockets to `out`; true once the dump's NLMSG_DONE arrived. A netlink error
// message or a malformed message is an error.
Result<bool> ParseSockDiagDump(std::span<const uint8_t> datagram, std::vector<TcpSocket>* out);

// Destroys every TCP socket (of any state but LISTEN, TIME_WAIT and CLOSE)
// for which `reset` returns true; returns how many. Needs CAP_NET_ADMIN.
Result<size_t> ResetTcpSockets(const std::function<bool(const TcpSocket&)>& reset);

// ResetTcpSockets for every socket whose peer is outside the VM.
Result<size_t> ResetOutsideTcpConnections();

}  // namespace vk::agent
