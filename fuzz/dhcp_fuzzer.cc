// Fuzzes DHCP message parsing and the server's state machine: each input is
// parsed, rebuilt and handed to a DhcpServer twice (so the second pass sees
// the lease the first one created).
#include <cstddef>
#include <cstdint>
#include <span>

#include "net/dhcp_message.h"
#include "net/dhcp_server.h"
#include "net/ipv4.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vk::net;
  std::span<const uint8_t> input(data, size);
  auto parsed = ParseDhcp(input);
  if (parsed.ok()) {
    auto rebuilt = BuildDhcp(*parsed);
    if (!ParseDhcp(rebuilt).ok()) __builtin_trap();  // our own output must parse
  }
  DhcpServerConfig config;
  config.server_ip = Ipv4(192, 168, 127, 1);
  config.netmask = PrefixMask(24);
  config.pool_first = Ipv4(192, 168, 127, 2);
  config.pool_last = Ipv4(192, 168, 127, 254);
  DhcpServer server(config);
  (void)server.AddStaticLease("db", Ipv4(192, 168, 127, 50));
  MacAddress chaddr = parsed.ok() ? parsed->chaddr : MacAddress{};
  for (int pass = 0; pass < 2; ++pass) {
    auto reply = server.Handle(input, chaddr);
    if (reply && !ParseDhcp(reply->payload).ok()) __builtin_trap();
  }
  return 0;
}
