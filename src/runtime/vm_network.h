// The network of one VM (`vk run --net`, `vk launch --net`): a virtio-net
// device whose frames go to an in-process LAN (switch + gateway + egress
// through host sockets), or to a `vk switch` over its unix socket.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/event_loop.h"
#include "base/result.h"
#include "vmm/machine.h"

namespace vk {

struct NetworkOptions {
  enum class Mode { kNone, kInProcess, kSwitch };
  Mode mode = Mode::kNone;
  std::string switch_socket;  // kSwitch: connect to this unix socket,
  int switch_fd = -1;         // or use this connected socket (borrowed; dup'ed)
  // kSwitch over switch_fd: one frame per read/write (a unix datagram
  // socket, a tap device) instead of the length-prefixed stream.
  bool datagram = false;
  std::optional<std::array<uint8_t, 6>> mac;  // the NIC's; none: virtkit's choice
  std::vector<std::string> publish;           // -p [HOSTIP:]HOSTPORT:GUESTPORT[/udp]
  std::string egress_allow;                   // --egress-allow name,*.name,CIDR
  std::string firewall_file;                  // --firewall FILE
};

// "--net" (in-process) or "--net=SOCK" (a vk switch) plus the flags above.
Result<void> CheckNetworkOptions(const NetworkOptions& options);

// Adds the virtio-net device and its backend to `machine` (before Start()).
// `hostname` is the VM's DHCP name (NAME.lan on the LAN). The MAC the device
// got is stored in `mac` when given.
Result<void> AttachNetwork(Machine& machine, const NetworkOptions& options,
                           const std::string& hostname, std::array<uint8_t, 6>* mac = nullptr);

// A warm template's virtio-net device: the default MAC, no backend (the
// template's guest never configures its network).
Result<void> AttachTemplateNetwork(Machine& machine);

// The MAC a VM on the in-process LAN has (the template's too).
std::array<uint8_t, 6> DefaultGuestMac();

// The network of a VM another VMM runs (--vmm qemu): QEMU's NIC connects
// to `socket` with `-netdev stream` (4-byte length-prefixed frames, what
// our switch speaks). With --net the VM's own LAN is served there, on
// `loop`; with --net=SOCK it is the user's switch.
struct ExternalNetwork {
  std::string socket;  // empty: no network
  std::array<uint8_t, 6> mac{};
  // The in-process LAN and its listener. Destroy it on the loop's thread
  // or once the loop has stopped for good.
  std::shared_ptr<void> served;
};
Result<ExternalNetwork> ServeExternalNetwork(EventLoop& loop, const NetworkOptions& options,
                                             const std::string& hostname,
                                             const std::string& socket_path);

}  // namespace vk
