// Fuzzes the virtctl codec (proto/virtctl.h): the host decodes request lines
// from any process in a fleet VM, the guest's virtctl decodes the host's
// reply and log lines. On arbitrary bytes both decoders must return an error
// or a value, never throw or crash, and what they accept must encode to a
// line that decodes to the same value (each codec is its own inverse).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "proto/virtctl.h"

namespace {

void CheckRequest(std::string_view text) {
  auto request = vk::proto::DecodeVirtctlRequest(text);
  if (!request.ok()) return;
  std::string encoded = vk::proto::EncodeVirtctlRequest(*request);
  auto again = vk::proto::DecodeVirtctlRequest(encoded);
  if (!again.ok() || !(*again == *request)) std::abort();
}

std::string Encode(const vk::proto::VirtctlServerLine& line) {
  if (const auto* chunk = std::get_if<vk::proto::LogChunk>(&line)) {
    return vk::proto::EncodeLogChunk(chunk->text);
  }
  return vk::proto::EncodeVirtctlReply(std::get<vk::proto::VirtctlReply>(line));
}

void CheckServerLine(std::string_view text) {
  auto line = vk::proto::DecodeVirtctlServerLine(text);
  if (!line.ok()) return;
  std::string encoded = Encode(*line);
  // Fields written out in full (a unit's defaults, escapes) may push a line
  // near the bound over it.
  if (encoded.size() > vk::proto::kMaxVirtctlLine) return;
  auto again = vk::proto::DecodeVirtctlServerLine(encoded);
  if (!again.ok() || !(*again == *line)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  CheckRequest(text);
  CheckServerLine(text);
  return 0;
}
