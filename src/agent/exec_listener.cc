#include "agent/exec_listener.h"

#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "agent/exec_server.h"
#include "agent/machine_identity.h"
#include "agent/system_setup.h"
#include "agent/tcp_reset.h"
#include "base/fd_io.h"
#include "base/log.h"
#include "base/unix_socket.h"
#include "proto/control_line.h"

namespace vk::agent {
namespace {

constexpr int kBacklog = 64;
// How long accepting pauses when the agent is out of file descriptors.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);

// Refusals are logged, but a guest process connecting in a loop must not
// flood the (emulated, slow) console with them.
log::RateLimited& Refusals() {
  static log::RateLimited limiter;
  return limiter;
}

void LogRefusal(const std::string& message) {
  auto decision = Refusals().Check("refused");
  if (decision.suppressed != 0) {
    ConsoleLine(std::to_string(decision.suppressed) + " similar refusals suppressed");
  }
  if (decision.print) ConsoleLine(message);
}

// Whether the peer of `connection`, at `peer`, may use the agent.
bool MayConnect(int connection, const sockaddr_storage& peer) {
  if (peer.ss_family == AF_VSOCK) {
    const auto& vsock = reinterpret_cast<const sockaddr_vm&>(peer);
    if (IsHostPeer(vsock)) return true;
    LogRefusal("refused a vsock connection from CID " + std::to_string(vsock.svm_cid) + " port " +
               std::to_string(vsock.svm_port) + ": only the host may connect");
    return false;
  }
  if (peer.ss_family == AF_UNIX) {
    auto owner = CheckPeerIsOwner(connection);
    if (!owner.ok()) log::WarnLimited("vk-agent: refused", "vk-agent: {}", owner.error().message());
    return owner.ok();
  }
  return false;
}

Result<UniqueFd> Listen(int family, const sockaddr* address, socklen_t size, const char* what) {
  UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return Error::FromErrno(std::string("socket for ") + what);
  if (::bind(fd.get(), address, size) != 0 || ::listen(fd.get(), kBacklog) != 0) {
    return Error::FromErrno(std::string("listen on ") + what);
  }
  return fd;
}

void ServeConnection(int fd) {
  ::signal(SIGCHLD, SIG_DFL);  // the session waits for its own command
  auto served = ServeExec(fd, {});
  ::_exit(served.ok() ? 0 : 1);
}

// Reads one request line (proto/control_line.h), at most kMaxControlLine
// bytes, within a few seconds (the only peer is the host, but one silent
// connection must not block the next).
std::string ReadControlLine(int fd) {
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string line;
  char c;
  while (line.size() <= proto::kMaxControlLine && ::recv(fd, &c, 1, 0) == 1) {
    if (c == '\n') return line;
    line += c;
  }
  return {};  // cut short or too long: refused by the parser
}

// Carries out a request that makes a restored checkpoint current (its clock
// stood still while it was saved, its random state is the checkpoint's, the
// other ends of its connections are gone).
Result<void> RefreshAfterRestore(const proto::ControlRequest& request) {
  switch (request.kind) {
    case proto::ControlRequest::Kind::kClock: return SetWallClock(request.clock_ns);
    case proto::ControlRequest::Kind::kEntropy: return AddEntropy(request.entropy);
    case proto::ControlRequest::Kind::kResetTcp: {
      size_t reset = VK_TRY(ResetOutsideTcpConnections());
      if (reset > 0)
        ConsoleLine(std::to_string(reset) + " TCP connection(s) reset after a restore");
      return Ok();
    }
    case proto::ControlRequest::Kind::kPowerOff: break;
  }
  return Error("not a restore request");
}

// The control port: "poweroff" syncs and powers the VM off; the others make
// a restored checkpoint current (RefreshAfterRestore).
[[noreturn]] void ServeControl(UniqueFd listener) {
  while (true) {
    UniqueFd connection = AcceptFromHost(listener.get());
    if (!connection) continue;
    auto request = proto::ParseControlRequest(ReadControlLine(connection.get()));
    if (!request.ok()) continue;
    if (request->kind == proto::ControlRequest::Kind::kPowerOff) {
      ConsoleLine("power-off requested by the host");
      PowerOffMachine();
      continue;
    }
    auto done = RefreshAfterRestore(*request);
    std::string reply = done.ok() ? "ok\n" : "error: " + done.error().message() + "\n";
    (void)!::send(connection.get(), reply.data(), reply.size(), MSG_NOSIGNAL);
  }
}

// One relay connection: "TCP <port>\n" -> connect in the guest -> "OK\n".
[[noreturn]] void ServeRelayConnection(int fd) {
  std::string line;
  char c;
  while (line.size() < 16 && ::recv(fd, &c, 1, 0) == 1 && c != '\n') line += c;
  unsigned port = 0;
  if (std::sscanf(line.c_str(), "TCP %u", &port) != 1 || port == 0 || port > 65535) ::_exit(1);
  UniqueFd target(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (!target ||
      ::connect(target.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::_exit(1);
  }
  if (::send(fd, "OK\n", 3, MSG_NOSIGNAL) != 3) ::_exit(1);
  vk::RelayBytes(fd, fd, target.get());
  ::_exit(0);
}

[[noreturn]] void ServeRelay(UniqueFd listener) {
  ::signal(SIGCHLD, SIG_IGN);
  while (true) {
    UniqueFd connection = AcceptFromHost(listener.get());
    if (connection && ::fork() == 0) {
      listener.Reset();
      ServeRelayConnection(connection.get());
    }
  }
}

}  // namespace

Result<UniqueFd> ListenVsock(uint32_t port) {
  sockaddr_vm address{};
  address.svm_family = AF_VSOCK;
  address.svm_cid = VMADDR_CID_ANY;
  address.svm_port = port;
  return Listen(AF_VSOCK, reinterpret_cast<sockaddr*>(&address), sizeof(address), "vsock port");
}

Result<UniqueFd> ListenUnix(const std::string& path) {
  ::unlink(path.c_str());
  return vk::ListenUnix(path, kBacklog);
}

bool IsHostPeer(const sockaddr_vm& peer) {
  return peer.svm_family == AF_VSOCK && peer.svm_cid == VMADDR_CID_HOST;
}

UniqueFd AcceptFromHost(int listener) {
  sockaddr_storage peer{};
  socklen_t size = sizeof(peer);
  UniqueFd connection(::accept4(listener, reinterpret_cast<sockaddr*>(&peer), &size, SOCK_CLOEXEC));
  if (!connection) {
    // Out of fds (or memory) the pending connection stays queued and accept
    // fails again at once: wait instead of spinning.
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      std::this_thread::sleep_for(kAcceptBackoff);
    }
    return UniqueFd();
  }
  if (!MayConnect(connection.get(), peer)) return UniqueFd();
  return connection;
}

void ServeExecsForever(UniqueFd listener) {
  ::signal(SIGCHLD, SIG_IGN);  // sessions are reaped automatically
  while (true) {
    UniqueFd connection = AcceptFromHost(listener.get());
    if (!connection) continue;
    pid_t child = ::fork();
    if (child == 0) {
      listener.Reset();
      ServeConnection(connection.get());
    }
  }
}

Result<void> StartGuestServers(uint32_t exec_port) {
  UniqueFd execs = VK_TRY(ListenVsock(exec_port));
  UniqueFd power = VK_TRY(ListenVsock(exec_port + 1));
  UniqueFd relay = VK_TRY(ListenVsock(exec_port + 2));
  pid_t server = ::fork();
  if (server < 0) return Error::FromErrno("fork the exec server");
  if (server == 0) {
    if (::fork() == 0) {
      execs.Reset();
      relay.Reset();
      ServeControl(std::move(power));
    }
    if (::fork() == 0) {
      execs.Reset();
      power.Reset();
      ServeRelay(std::move(relay));
    }
    power.Reset();
    relay.Reset();
    ServeExecsForever(std::move(execs));
  }
  return Ok();
}

}  // namespace vk::agent
