// Fuzzes the agent's sock_diag dump parser (agent/tcp_reset.h): one netlink
// datagram as the guest kernel answers a TCP socket dump. The kernel is the
// agent's own, but the parser still must not read past a message's end.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "agent/tcp_reset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<vk::agent::TcpSocket> sockets;
  auto done = vk::agent::ParseSockDiagDump(std::span<const uint8_t>(data, size), &sockets);
  (void)done;
  // What was listed is only classified, never dereferenced further.
  for (const auto& socket : sockets) (void)vk::agent::PeerIsInside(socket, {});
  return 0;
}
