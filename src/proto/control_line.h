// The agent's control port (vsock port 4445; the host's control.sock), one
// request line per connection (docs/protocol.md, "Control port"):
//   "poweroff\n"      sync and power the VM off (no reply: the connection
//                     ends with the VM)
//   "clock NS\n"      set CLOCK_REALTIME to NS nanoseconds since the epoch
//   "entropy HEX\n"   credit 32-64 bytes to the kernel's pool and reseed its
//                     CRNG
//   "reset-tcp\n"     reset every TCP connection whose peer is outside the VM
// The last three make a restored checkpoint current again (its clock stood
// still while it was saved; its random state is the checkpoint's, the same
// on every restore of it; its connections' other ends are gone); each is
// answered "ok\n" or "error: MESSAGE\n".
// Shared by the host (formats) and vk-agent (parses untrusted lines).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vk::proto {

inline constexpr size_t kMinControlEntropy = 32;  // 256 bits: a full CRNG reseed
inline constexpr size_t kMaxControlEntropy = 64;
// Abuse bound: the agent reads at most this many bytes of a request line
// (the longest is "entropy " and 128 hex digits).
inline constexpr size_t kMaxControlLine = 160;

struct ControlRequest {
  enum class Kind { kPowerOff, kClock, kEntropy, kResetTcp };
  Kind kind = Kind::kPowerOff;
  uint64_t clock_ns = 0;         // kClock
  std::vector<uint8_t> entropy;  // kEntropy
};

// One line without its newline; anything else is refused.
Result<ControlRequest> ParseControlRequest(std::string_view line);
// The request's line, newline included.
std::string FormatControlRequest(const ControlRequest& request);

}  // namespace vk::proto
