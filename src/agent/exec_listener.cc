#include "agent/exec_listener.h"

#include <linux/vm_sockets.h>
#include <poll.h>
#include <signal.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "agent/exec_server.h"
#include "agent/system_setup.h"

namespace vk::agent {
namespace {

constexpr int kBacklog = 64;
constexpr char kPowerOffRequest[] = "poweroff\n";

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

// One line, "poweroff\n", from the host: sync and power the VM off.
[[noreturn]] void ServePowerOff(UniqueFd listener) {
  while (true) {
    UniqueFd connection(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!connection) continue;
    char line[sizeof(kPowerOffRequest)] = {};
    ssize_t n = ::recv(connection.get(), line, sizeof(line) - 1, MSG_WAITALL);
    if (n == static_cast<ssize_t>(sizeof(kPowerOffRequest) - 1) &&
        std::strcmp(line, kPowerOffRequest) == 0) {
      ConsoleLine("power-off requested by the host");
      PowerOffMachine();
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
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) return Error("socket path too long: " + path);
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  ::unlink(path.c_str());
  return Listen(AF_UNIX, reinterpret_cast<sockaddr*>(&address), sizeof(address), path.c_str());
}

void ServeExecsForever(UniqueFd listener) {
  ::signal(SIGCHLD, SIG_IGN);  // sessions are reaped automatically
  while (true) {
    UniqueFd connection(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
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
  pid_t server = ::fork();
  if (server < 0) return Error::FromErrno("fork the exec server");
  if (server == 0) {
    if (::fork() == 0) {
      execs.Reset();
      ServePowerOff(std::move(power));
    }
    power.Reset();
    ServeExecsForever(std::move(execs));
  }
  return Ok();
}

}  // namespace vk::agent
