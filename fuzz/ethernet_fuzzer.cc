// Fuzzes the LAN data path: arbitrary frames from two guest ports into a
// Switch with a Gateway attached (ARP, ICMP, DHCP, DNS, egress dispatch),
// plus SendIpPacket with the same bytes. Must never crash or read out of
// bounds; replies go to recording sinks.
#include <cstddef>
#include <cstdint>
#include <span>

#include "net/gateway.h"
#include "net/switch.h"

namespace {

class CountingSink : public vk::net::FrameSink {
 public:
  bool Deliver(std::span<const uint8_t> frame) override {
    bytes += frame.size();
    return true;
  }
  size_t bytes = 0;
};

class NullEgress : public vk::net::EgressHandler {
 public:
  void OnIpPacket(std::span<const uint8_t> packet) override { bytes += packet.size(); }
  size_t bytes = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vk::net;
  Switch lan(SwitchOptions{std::chrono::seconds(300), 8});
  Gateway gateway(lan, GatewayConfig{}, nullptr);
  NullEgress egress;
  gateway.SetEgressHandler(&egress);
  CountingSink a, b;
  PortId port_a = lan.AddPort(&a, "a");
  PortId port_b = lan.AddPort(&b, "b");
  std::span<const uint8_t> input(data, size);
  // Also split the input at its first byte so two frames interact (learning).
  lan.Receive(port_a, input);
  if (size > 1) {
    size_t cut = 1 + data[0] % (size - 1);
    lan.Receive(port_b, input.subspan(1, cut));
    lan.Receive(port_a, input.subspan(cut));
  }
  if (size > 14) (void)gateway.SendIpPacket(input.subspan(14));
  return 0;
}
