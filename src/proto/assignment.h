// A warm template's assignment (docs/protocol.md, "Template assignment"):
// what the host hands a guest restored from a template snapshot so that it
// becomes one particular VM. Shared by the host (encodes) and vk-agent
// (decodes); the agent treats every byte as untrusted.
//
// Frame: u32 little-endian record length, then a base/state_stream.h record
// "asgn" version 1 holding, in order: String(params), Bytes(entropy),
// U64(wall clock, ns since the epoch), Bytes(mac).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vk::proto {

// The agent's greeting on each template connection, and its replies.
inline constexpr std::string_view kTemplateReady = "VK-TEMPLATE-READY\n";
inline constexpr std::string_view kTemplateOk = "OK\n";
inline constexpr std::string_view kTemplateErrPrefix = "ERR ";  // then one line

inline constexpr size_t kAssignmentHeaderSize = 4;
// Bounds what a connection can make the agent allocate; the largest
// legitimate record (a few hundred bytes of params, the entropy) is far below.
inline constexpr uint32_t kMaxAssignmentRecord = 64 * 1024;
// 256 bits: enough to initialise and reseed the kernel's CRNG, so clones of
// one snapshot never share random numbers.
inline constexpr size_t kMinAssignmentEntropy = 32;
// More adds nothing to the pool; bounds the ioctl's buffer.
inline constexpr size_t kMaxAssignmentEntropy = 4096;
inline constexpr size_t kMacSize = 6;

struct Assignment {
  // The per-VM vk.* words a kernel command line would carry
  // ("vk.root=/dev/vda vk.serve=4444 ..."), parsed by ParseInitParams.
  std::string params;
  std::vector<uint8_t> entropy;  // kMinAssignmentEntropy..kMaxAssignmentEntropy bytes
  uint64_t wall_clock_ns = 0;    // CLOCK_REALTIME, ns since 1970-01-01 UTC
  std::vector<uint8_t> mac;      // empty: keep eth0's address; else kMacSize bytes
};

// The whole frame: length header and record.
std::vector<uint8_t> EncodeAssignment(const Assignment& assignment);

// The record's length from a frame header; refuses one above
// kMaxAssignmentRecord (or empty).
Result<uint32_t> DecodeAssignmentLength(std::span<const uint8_t, kAssignmentHeaderSize> header);

// The record (the bytes after the header). Refuses a wrong tag or version,
// truncation, trailing bytes, too little or too much entropy, and a MAC that
// is not 6 bytes of a unicast address.
Result<Assignment> DecodeAssignment(std::span<const uint8_t> record);

}  // namespace vk::proto
