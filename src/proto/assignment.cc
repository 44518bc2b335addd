#include "proto/assignment.h"

#include <algorithm>

#include "base/state_stream.h"
#include "proto/str_format.h"

namespace vk::proto {
namespace {

constexpr char kTag[] = "asgn";
constexpr uint32_t kVersion = 1;

Result<void> CheckEntropy(const std::vector<uint8_t>& entropy) {
  if (entropy.size() < kMinAssignmentEntropy || entropy.size() > kMaxAssignmentEntropy) {
    return Error(StrFormat("assignment entropy is {} bytes, must be {} to {}", entropy.size(),
                           kMinAssignmentEntropy, kMaxAssignmentEntropy));
  }
  return Ok();
}

// IEEE 802: bit 0 of the first octet marks a group address, which an
// interface cannot own (the kernel refuses it with EADDRNOTAVAIL).
Result<void> CheckMac(const std::vector<uint8_t>& mac) {
  if (mac.empty()) return Ok();
  if (mac.size() != kMacSize) {
    return Error(StrFormat("assignment MAC is {} bytes, must be 0 or {}", mac.size(), kMacSize));
  }
  const bool all_zero = std::all_of(mac.begin(), mac.end(), [](uint8_t b) { return b == 0; });
  if ((mac[0] & 1) != 0 || all_zero) return Error("assignment MAC is not a unicast address");
  return Ok();
}

}  // namespace

std::vector<uint8_t> EncodeAssignment(const Assignment& assignment) {
  StateWriter record;
  record.BeginRecord(kTag, kVersion);
  record.String(assignment.params);
  record.Bytes(assignment.entropy);
  record.U64(assignment.wall_clock_ns);
  record.Bytes(assignment.mac);
  StateWriter frame;
  frame.U32(static_cast<uint32_t>(record.bytes().size()));  // little-endian, like the record
  std::vector<uint8_t> bytes = frame.Take();
  bytes.insert(bytes.end(), record.bytes().begin(), record.bytes().end());
  return bytes;
}

Result<uint32_t> DecodeAssignmentLength(std::span<const uint8_t, kAssignmentHeaderSize> header) {
  StateReader reader(header);
  const uint32_t length = VK_TRY(reader.U32());
  if (length == 0 || length > kMaxAssignmentRecord) {
    return Error(
        StrFormat("assignment of {} bytes (1 to {} allowed)", length, kMaxAssignmentRecord));
  }
  return length;
}

Result<Assignment> DecodeAssignment(std::span<const uint8_t> record) {
  StateReader reader(record);
  Assignment assignment;
  VK_TRY_CTX(reader.ExpectRecord(kTag, kVersion), "assignment");
  assignment.params = VK_TRY_CTX(reader.String(), "assignment params");
  assignment.entropy = VK_TRY_CTX(reader.Bytes(), "assignment entropy");
  assignment.wall_clock_ns = VK_TRY_CTX(reader.U64(), "assignment wall clock");
  assignment.mac = VK_TRY_CTX(reader.Bytes(), "assignment MAC");
  VK_TRY_CTX(reader.Finish(), "assignment");
  VK_TRY(CheckEntropy(assignment.entropy));
  VK_TRY(CheckMac(assignment.mac));
  return assignment;
}

}  // namespace vk::proto
