// One vsock stream between a guest port and a host unix socket, with the
// credit accounting of virtio 1.2 §5.10.6.3 in both directions.
#pragma once

#include <cstdint>
#include <string>

#include "base/unique_fd.h"

namespace vk::virtio::vsock {

// Abuse bounds: the guest may have at most kBufAlloc bytes in flight towards a
// host socket that does not read (we advertise it as our buf_alloc), and we
// hold at most kMaxFromSocket bytes read from a host socket for the guest.
inline constexpr uint32_t kBufAlloc = 256 * 1024;
inline constexpr uint32_t kMaxFromSocket = 64 * 1024;

struct Connection {
  enum class State {
    kAwaitingConnectLine,  // host client connected to the listener, sending "CONNECT p\n"
    kConnecting,           // REQUEST sent to the guest, waiting for RESPONSE
    kEstablished,
    kClosing,  // SHUTDOWN sent to the guest, waiting for its RST
  };

  UniqueFd socket;
  State state = State::kEstablished;
  uint32_t guest_port = 0;
  uint32_t host_port = 0;
  // Guest -> host: bytes written to the socket so far, and reported to the guest.
  uint32_t fwd_cnt = 0;
  uint32_t reported_fwd_cnt = 0;
  std::string to_socket;  // guest data the socket has not taken yet (<= kBufAlloc)
  bool guest_done_sending = false;
  // Host -> guest: the guest's receive window.
  uint32_t peer_buf_alloc = 0;
  uint32_t peer_fwd_cnt = 0;
  uint32_t tx_cnt = 0;
  std::string from_socket;  // read from the socket, not yet in an rx buffer
  bool host_eof = false;
  bool read_paused = false;  // EPOLLIN off until credit or rx buffers return
  std::string connect_line;  // kAwaitingConnectLine only
  bool announce_ok = true;   // host-initiated via CONNECT: answer "OK <port>\n"

  // Bytes we may still send the guest (its free buffer space).
  uint32_t PeerCredit() const {
    uint32_t in_flight = tx_cnt - peer_fwd_cnt;  // wraps like the spec's counters
    return in_flight >= peer_buf_alloc ? 0 : peer_buf_alloc - in_flight;
  }
  // Credit left for reading more from the socket (bytes held count as sent).
  uint32_t ReadBudget() const {
    uint32_t credit = PeerCredit();
    uint32_t held = static_cast<uint32_t>(from_socket.size());
    uint32_t room = credit > held ? credit - held : 0;
    return std::min<uint32_t>(room, kMaxFromSocket - std::min<uint32_t>(held, kMaxFromSocket));
  }
};

}  // namespace vk::virtio::vsock
