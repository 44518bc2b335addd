#include "cli/guest_port.h"

#include <sys/socket.h>

#include <cstring>

#include "base/fd_io.h"
#include "proto/vsock_stream.h"
#include "runtime/named_vm.h"

namespace vk::cli {

Result<UniqueFd> ConnectGuestPort(const std::string& vm_name, uint32_t port) {
  return VK_TRY(NamedVm::Find(vm_name)).ConnectGuestPort(port);
}

Result<UniqueFd> ConnectGuestTcp(const std::string& vm_name, uint16_t port) {
  UniqueFd fd = VK_TRY(ConnectGuestPort(vm_name, kExecPort + 2));
  std::string request = "TCP " + std::to_string(port) + "\n";
  VK_TRY(WriteAll(fd.get(), request));
  char reply[3];
  if (::recv(fd.get(), reply, 3, MSG_WAITALL) != 3 || std::memcmp(reply, "OK\n", 3) != 0) {
    return Error("nothing listens on TCP port " + std::to_string(port) + " in " + vm_name);
  }
  return fd;
}

}  // namespace vk::cli
