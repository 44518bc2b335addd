// What a "reject" firewall verdict sends back, so the sender fails at once
// instead of retrying for minutes: a TCP reset for a TCP segment (RFC 9293
// §3.10.7.1, as for a closed port), an ICMP "communication administratively
// prohibited" (type 3 code 13, RFC 1812 §5.2.7.1) for anything else. Errors
// never answer errors: nothing for a RST, an ICMP error or a non-first
// fragment.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "net/frame_bytes.h"

namespace vk::net {

inline constexpr uint8_t kIcmpUnreachable = 3;
inline constexpr uint8_t kIcmpAdminProhibited = 13;

// The answer to the rejected IPv4 `packet`. A reset comes from the address
// the packet was sent to; an ICMP error comes from `icmp_source` (the
// gateway: the hop that filtered it).
std::optional<std::vector<uint8_t>> BuildRejection(Bytes packet, uint32_t icmp_source);

}  // namespace vk::net
