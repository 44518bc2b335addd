// Options::network's firewall as the rule text of src/net/firewall_rule.h,
// the syntax `vk run --firewall FILE` reads (what the supervisor gets).
#pragma once

#include <string>

#include "virtkit/virtkit.h"

namespace virtkit::internal {

// One line per rule, then the two "default" lines. kUsage for a rule the
// syntax cannot say (ports without tcp/udp, first > last, a bad address).
Result<std::string> FirewallText(const Network& network);

// "HOSTIP:HOSTPORT:GUESTPORT[/udp]" (`vk run --publish`).
std::string PublishText(const PortForward& port);

}  // namespace virtkit::internal
