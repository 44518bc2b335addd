#include "vmm/vm_network.h"

#include "net/lan.h"
#include "net/stream_port.h"
#include "virtio/net/net_device.h"

namespace vk {
namespace {

// The VM's MAC: fixed, so its DHCP lease (and forwards to it) are stable.
constexpr std::array<uint8_t, 6> kGuestMac{0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

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

Result<void> AttachInProcess(Machine& machine, const NetworkOptions& options,
                             const std::string& hostname, virtio::NetDevice& device) {
  auto lan = std::shared_ptr<net::Lan>(
      VK_TRY(net::Lan::Create(machine.device_loop(), VK_TRY(LanOptionsFor(options)))));
  net::MacAddress mac{kGuestMac};
  VK_TRY(lan->AddStaticLease(mac, lan->FirstGuestIp(), hostname.empty() ? "vk" : hostname));
  device.SetBackend(lan->AddPort(&device, "vm"));
  machine.Own(lan);
  return Ok();
}

Result<void> AttachToSwitch(Machine& machine, const NetworkOptions& options,
                            virtio::NetDevice& device) {
  UniqueFd fd = VK_TRY_CTX(net::ConnectUnixStream(options.switch_socket),
                           "--net=" + options.switch_socket + " (is `vk switch` running?)");
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
  return Ok();
}

Result<void> AttachNetwork(Machine& machine, const NetworkOptions& options,
                           const std::string& hostname) {
  if (options.mode == NetworkOptions::Mode::kNone) return Ok();
  virtio::NetOptions net_options;
  net_options.mac = kGuestMac;
  auto device = VK_TRY(virtio::NetDevice::Create(net_options));
  if (options.mode == NetworkOptions::Mode::kInProcess) {
    VK_TRY(AttachInProcess(machine, options, hostname, *device));
  } else {
    VK_TRY(AttachToSwitch(machine, options, *device));
  }
  return machine.AddVirtioDevice(std::move(device));
}

}  // namespace vk
