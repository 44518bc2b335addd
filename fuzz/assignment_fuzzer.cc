// Fuzzes the warm-template assignment decoder (proto/assignment.h): the
// length header and the record a restored guest's agent reads from the host.
// Input: a whole frame. What the decoder accepts must re-encode to exactly
// the same bytes (the host and the agent agree on one encoding).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "proto/assignment.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vk::proto;
  std::span<const uint8_t> input(data, size);
  if (input.size() < kAssignmentHeaderSize) return 0;
  auto length = DecodeAssignmentLength(input.first<kAssignmentHeaderSize>());
  std::span<const uint8_t> record = input.subspan(kAssignmentHeaderSize);
  // A bad header still lets the record decoder see the bytes.
  if (length.ok() && *length < record.size()) record = record.first(*length);
  auto assignment = DecodeAssignment(record);
  if (!assignment.ok()) return 0;
  const auto encoded = EncodeAssignment(*assignment);
  const auto again = std::span(encoded).subspan(kAssignmentHeaderSize);
  if (!std::equal(again.begin(), again.end(), record.begin(), record.end())) abort();
  return 0;
}
