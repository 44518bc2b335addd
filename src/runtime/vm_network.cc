#include "runtime/vm_network.h"

#include <fcntl.h>

#include <random>

#include "net/datagram_port.h"
#include "net/lan.h"
#include "net/stream_port.h"
#include "net/switch_server.h"
#include "virtio/net/net_device.h"

namespace vk {
namespace {

// The VM's MAC. Alone on its in-process LAN it is fixed (its static lease
// and the port forwards to it never change); on a shared switch it comes
// from the VM's name (the same name gets the same lease again), or is random.
constexpr std::array<uint8_t, 6> kGuestMac{0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

std::array<uint8_t, 6> SwitchMac(const std::string& hostname) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  std::string seed = hostname;
  if (seed.empty()) {
    std::random_device random;
    seed = std::to_string(random()) + std::to_string(random());
  }
  for (unsigned char c : seed) h = (h ^ c) * 1099511628211ull;
  // 0x0a: locally administered, unicast.
  return {0x0a,
          0x76,
          0x6b,
          static_cast<uint8_t>(h >> 16),
          static_cast<uint8_t>(h >> 8),
          static_cast<uint8_t>(h)};
}

std::array<uint8_t, 6> GuestMacFor(const NetworkOptions& options, const std::string& hostname) {
  if (options.mac) return *options.mac;
  return options.mode == NetworkOptions::Mode::kSwitch ? SwitchMac(hostname) : kGuestMac;
}

Result<net::LanOptions> LanOptionsFor(const NetworkOptions& options) {
  net::LanOptions lan;
  for (const std::string& spec : options.publish)
    lan.forwards.push_back(VK_TRY(net::ParsePortForward(spec)));
  if (!options.egress_allow.empty())
    lan.egress_allow = VK_TRY_CTX(net::ParseEgressAllow(options.egress_allow), "--egress-allow");
  if (!options.firewall_file.empty())
    lan.firewall = VK_TRY(net::ReadRulesFile(options.firewall_file));
  return lan;
}

// The VM's own LAN, with the static lease its port forwards point at.
Result<std::shared_ptr<net::Lan>> CreateVmLan(EventLoop& loop, const NetworkOptions& options,
                                              const std::string& hostname) {
  auto lan =
      std::shared_ptr<net::Lan>(VK_TRY(net::Lan::Create(loop, VK_TRY(LanOptionsFor(options)))));
  VK_TRY(lan->AddStaticLease(net::MacAddress{kGuestMac}, lan->FirstGuestIp(),
                             hostname.empty() ? "vk" : hostname));
  return lan;
}

Result<void> AttachInProcess(Machine& machine, const NetworkOptions& options,
                             const std::string& hostname, virtio::NetDevice& device) {
  auto lan = VK_TRY(CreateVmLan(machine.device_loop(), options, hostname));
  device.SetBackend(lan->AddPort(&device, "vm"));
  machine.Own(lan);
  return Ok();
}

Result<void> AttachToSwitch(Machine& machine, const NetworkOptions& options,
                            virtio::NetDevice& device) {
  UniqueFd fd;
  if (options.switch_fd >= 0) {
    fd.Reset(::fcntl(options.switch_fd, F_DUPFD_CLOEXEC, 0));
    if (!fd) return Error::FromErrno("the network's socket");
  } else {
    fd = VK_TRY_CTX(net::ConnectUnixStream(options.switch_socket),
                    "--net=" + options.switch_socket + " (is `vk switch` running?)");
  }
  if (options.datagram) {
    auto port = std::shared_ptr<net::DatagramPort>(
        VK_TRY(net::DatagramPort::Create(machine.device_loop(), std::move(fd), &device)));
    device.SetBackend(port.get());
    machine.Own(port);
    return Ok();
  }
  auto port = std::shared_ptr<net::StreamPort>(
      VK_TRY(net::StreamPort::Create(machine.device_loop(), std::move(fd), &device, {})));
  device.SetBackend(port.get());
  machine.Own(port);
  return Ok();
}

}  // namespace

Result<void> CheckNetworkOptions(const NetworkOptions& options) {
  if (options.mode == NetworkOptions::Mode::kNone &&
      (!options.publish.empty() || !options.egress_allow.empty() || !options.firewall_file.empty()))
    return Error("-p, --egress-allow and --firewall need a network: add --net");
  if (options.mode == NetworkOptions::Mode::kSwitch &&
      (!options.publish.empty() || !options.egress_allow.empty() || !options.firewall_file.empty()))
    return Error("with --net=SOCK, port forwards and firewall rules belong to `vk switch`");
  if (options.mode == NetworkOptions::Mode::kInProcess) VK_TRY(LanOptionsFor(options));
  if (options.datagram && options.switch_fd < 0)
    return Error("a datagram network needs its socket or tap descriptor");
  return Ok();
}

std::array<uint8_t, 6> DefaultGuestMac() { return kGuestMac; }

Result<void> AttachTemplateNetwork(Machine& machine) {
  virtio::NetOptions net_options;
  net_options.mac = kGuestMac;
  return machine.AddVirtioDevice(VK_TRY(virtio::NetDevice::Create(net_options)));
}

Result<void> AttachNetwork(Machine& machine, const NetworkOptions& options,
                           const std::string& hostname, std::array<uint8_t, 6>* mac) {
  if (options.mode == NetworkOptions::Mode::kNone) return Ok();
  virtio::NetOptions net_options;
  net_options.mac = GuestMacFor(options, hostname);
  if (mac != nullptr) *mac = net_options.mac;
  auto device = VK_TRY(virtio::NetDevice::Create(net_options));
  if (options.mode == NetworkOptions::Mode::kInProcess) {
    VK_TRY(AttachInProcess(machine, options, hostname, *device));
  } else {
    VK_TRY(AttachToSwitch(machine, options, *device));
  }
  return machine.AddVirtioDevice(std::move(device));
}

Result<ExternalNetwork> ServeExternalNetwork(EventLoop& loop, const NetworkOptions& options,
                                             const std::string& hostname,
                                             const std::string& socket_path) {
  ExternalNetwork network;
  if (options.mode == NetworkOptions::Mode::kNone) return network;
  if (options.switch_fd >= 0 || options.datagram)
    return Error(ErrorKind::kUsage,
                 "a network given as a descriptor needs virtkit's VMM (QEMU joins by socket path)");
  network.mac = GuestMacFor(options, hostname);
  if (options.mode == NetworkOptions::Mode::kSwitch) {
    network.socket = options.switch_socket;
    return network;
  }
  struct Served {
    std::shared_ptr<net::Lan> lan;
    std::unique_ptr<net::SwitchServer> server;  // declared last: goes before the LAN it uses
  };
  auto served = std::make_shared<Served>();
  served->lan = VK_TRY(CreateVmLan(loop, options, hostname));
  served->server = VK_TRY(net::SwitchServer::Listen(loop, *served->lan, socket_path));
  network.socket = socket_path;
  network.served = std::move(served);
  return network;
}

}  // namespace vk
