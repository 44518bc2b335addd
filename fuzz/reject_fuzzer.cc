// Fuzzes the firewall's answers: BuildRejection on arbitrary bytes (a packet
// the guest or the outside sent) must never crash or read out of bounds, and
// whatever it answers must itself be a well-formed IPv4 packet that would
// never be answered in turn (errors never answer errors).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "net/ipv4.h"
#include "net/reject.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> packet(data, size);
  auto answer = vk::net::BuildRejection(packet, vk::net::Ipv4(192, 168, 127, 1));
  if (!answer) return 0;
  if (!vk::net::ParseIpv4Packet(*answer).ok()) std::abort();
  auto again = vk::net::BuildRejection(*answer, vk::net::Ipv4(192, 168, 127, 1));
  // A reset is never answered; an ICMP 3/13 is never answered.
  if (again) std::abort();
  return 0;
}
