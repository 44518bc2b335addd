// Resetting TCP connections after a restore (agent/tcp_reset.h): which peers
// count as inside the VM, the sock_diag dump parser, and a real SOCK_DESTROY
// in a network namespace of the test's own (so no socket of the host is
// ever listed, let alone reset).
#include "agent/tcp_reset.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "base/unique_fd.h"

namespace vk::agent {
namespace {

IpAddress V4(const char* text) {
  IpAddress address;
  address.family = AF_INET;
  EXPECT_EQ(inet_pton(AF_INET, text, address.bytes.data()), 1) << text;
  return address;
}

IpAddress V6(const char* text) {
  IpAddress address;
  address.family = AF_INET6;
  EXPECT_EQ(inet_pton(AF_INET6, text, address.bytes.data()), 1) << text;
  return address;
}

TcpSocket To(const IpAddress& peer) {
  TcpSocket socket;
  socket.family = peer.family;
  socket.peer = peer;
  return socket;
}

TEST(TcpReset, LoopbackAndOwnAddressesAreInsideTheVm) {
  const std::vector<IpAddress> own = {V4("192.168.127.2"), V6("fe80::5054:ff:fe12:3456")};
  for (const IpAddress& inside :
       {V4("127.0.0.1"), V4("127.8.9.10"), V6("::1"), V6("::ffff:127.0.0.1"), V4("192.168.127.2"),
        V6("::ffff:192.168.127.2"), V6("fe80::5054:ff:fe12:3456")}) {
    EXPECT_TRUE(PeerIsInside(To(inside), own));
  }
  // The gateway (the egress, host.lan), another VM on the LAN, the world.
  for (const IpAddress& outside : {V4("192.168.127.1"), V4("192.168.127.3"), V4("203.0.113.5"),
                                   V6("::ffff:192.168.127.1"), V6("2001:db8::1"), V6("::2")}) {
    EXPECT_FALSE(PeerIsInside(To(outside), own));
  }
  EXPECT_TRUE(PeerIsInside(To(V4("127.0.0.1")), {}));
}

void AppendMessage(std::vector<uint8_t>& out, uint16_t type, const void* payload, size_t size) {
  nlmsghdr header{};
  header.nlmsg_len = static_cast<uint32_t>(sizeof(header) + size);
  header.nlmsg_type = type;
  const size_t at = out.size();
  out.resize(at + NLMSG_ALIGN(header.nlmsg_len));
  std::memcpy(out.data() + at, &header, sizeof(header));
  std::memcpy(out.data() + at + sizeof(header), payload, size);
}

inet_diag_msg DiagMessage(uint16_t sport, uint16_t dport, const char* dst) {
  inet_diag_msg message{};
  message.idiag_family = AF_INET;
  message.idiag_state = TCP_ESTABLISHED;
  message.id.idiag_sport = htons(sport);
  message.id.idiag_dport = htons(dport);
  inet_pton(AF_INET, "192.168.127.2", &message.id.idiag_src[0]);
  inet_pton(AF_INET, dst, &message.id.idiag_dst[0]);
  message.id.idiag_cookie[0] = 77;
  return message;
}

TEST(TcpReset, ParsesADumpUntilDone) {
  std::vector<uint8_t> datagram;
  inet_diag_msg first = DiagMessage(40000, 80, "192.168.127.1");
  inet_diag_msg second = DiagMessage(40001, 22, "127.0.0.1");
  AppendMessage(datagram, SOCK_DIAG_BY_FAMILY, &first, sizeof(first));
  AppendMessage(datagram, SOCK_DIAG_BY_FAMILY, &second, sizeof(second));
  std::vector<TcpSocket> sockets;
  auto done = ParseSockDiagDump(datagram, &sockets);
  ASSERT_TRUE(done.ok()) << done.error().message();
  EXPECT_FALSE(*done) << "no NLMSG_DONE yet";
  ASSERT_EQ(sockets.size(), 2u);
  EXPECT_EQ(sockets[0].local_port, 40000);
  EXPECT_EQ(sockets[0].peer_port, 80);
  EXPECT_EQ(sockets[0].peer, V4("192.168.127.1"));
  EXPECT_EQ(sockets[0].cookie[0], 77u);
  EXPECT_EQ(sockets[1].peer, V4("127.0.0.1"));

  std::vector<uint8_t> last;
  int zero = 0;
  AppendMessage(last, NLMSG_DONE, &zero, sizeof(zero));
  done = ParseSockDiagDump(last, &sockets);
  ASSERT_TRUE(done.ok());
  EXPECT_TRUE(*done);
}

TEST(TcpReset, MalformedOrFailedDumpsAreErrors) {
  inet_diag_msg message = DiagMessage(1, 2, "192.0.2.1");
  std::vector<uint8_t> datagram;
  AppendMessage(datagram, SOCK_DIAG_BY_FAMILY, &message, sizeof(message));
  std::vector<TcpSocket> sockets;
  std::vector<uint8_t> cut(datagram.begin(), datagram.end() - 8);  // the length says more
  EXPECT_FALSE(ParseSockDiagDump(cut, &sockets).ok());
  nlmsghdr tiny{};
  tiny.nlmsg_len = 4;  // shorter than its own header
  std::vector<uint8_t> bad(sizeof(tiny));
  std::memcpy(bad.data(), &tiny, sizeof(tiny));
  EXPECT_FALSE(ParseSockDiagDump(bad, &sockets).ok());
  nlmsgerr error{};
  error.error = -EPERM;
  std::vector<uint8_t> refused;
  AppendMessage(refused, NLMSG_ERROR, &error, sizeof(error));
  auto parsed = ParseSockDiagDump(refused, &sockets);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().errno_value(), EPERM);
  EXPECT_TRUE(sockets.empty());
  // A short message of another type is skipped, not read past its end.
  std::vector<uint8_t> short_message;
  AppendMessage(short_message, SOCK_DIAG_BY_FAMILY, &error, sizeof(error));
  ASSERT_TRUE(ParseSockDiagDump(short_message, &sockets).ok());
  EXPECT_TRUE(sockets.empty());
}

// Runs `body` in a child process inside a new network namespace with only
// `lo`, up; returns its exit status, or -1 when such a namespace cannot be
// made here (not root).
int InOwnNetworkNamespace(int (*body)()) {
  pid_t child = fork();
  if (child == 0) {
    if (unshare(CLONE_NEWNET) != 0) _exit(100);
    UniqueFd control(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ifreq request{};
    std::strcpy(request.ifr_name, "lo");
    request.ifr_flags = IFF_UP;
    if (!control || ioctl(control.get(), SIOCSIFFLAGS, &request) != 0) _exit(101);
    _exit(body());
  }
  int status = 0;
  waitpid(child, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 100) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A loopback connection: the client end is returned, the server end kept
// open in `server`.
UniqueFd Connect(UniqueFd* server, uint16_t* port) {
  UniqueFd listener(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  if (bind(listener.get(), reinterpret_cast<sockaddr*>(&address), size) != 0 ||
      listen(listener.get(), 1) != 0 ||
      getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    return UniqueFd();
  }
  UniqueFd client(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (connect(client.get(), reinterpret_cast<sockaddr*>(&address), size) != 0) return UniqueFd();
  server->Reset(accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  *port = ntohs(address.sin_port);
  return client;
}

int LoopbackConnectionsSurviveAndChosenOnesAreReset() {
  UniqueFd server;
  uint16_t port = 0;
  UniqueFd client = Connect(&server, &port);
  if (!client || !server) return 2;
  auto outside = ResetOutsideTcpConnections();
  if (!outside.ok()) return outside.error().errno_value() == EOPNOTSUPP ? 99 : 3;
  if (*outside != 0) return 4;  // both ends are on loopback: inside the VM
  auto chosen = ResetTcpSockets([port](const TcpSocket& socket) {
    return socket.peer_port == port && socket.state == TCP_ESTABLISHED;
  });
  if (!chosen.ok() || *chosen != 1) return 5;
  // A reader of the reset socket does not wait: its recv fails at once.
  char byte;
  if (recv(client.get(), &byte, 1, 0) != -1 || errno != ECONNABORTED) return 6;
  // The peer got the kernel's RST.
  if (recv(server.get(), &byte, 1, 0) != -1 || errno != ECONNRESET) return 7;
  return 0;
}

TEST(TcpReset, DestroysTheChosenConnectionsOnly) {
  int result = InOwnNetworkNamespace(&LoopbackConnectionsSurviveAndChosenOnesAreReset);
  if (result == -1) GTEST_SKIP() << "cannot make a network namespace here (needs root)";
  if (result == 99) GTEST_SKIP() << "this kernel has no CONFIG_INET_DIAG_DESTROY";
  EXPECT_EQ(result, 0) << "step " << result
                       << " of LoopbackConnectionsSurviveAndChosenOnesAreReset";
}

}  // namespace
}  // namespace vk::agent
