// Fuzzes the exec channel's untrusted-input parsers: the incremental frame
// decoder (fed in input-chosen chunk sizes) and every payload decoder,
// including the ExecRequest and Attach parsers, which must round-trip what
// they accept.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "proto/frame.h"
#include "proto/messages.h"

namespace {

using namespace vk::proto;

void DecodePayload(const Frame& frame) {
  switch (frame.type) {
    case FrameType::kHello: (void)DecodeHello(frame.payload); break;
    case FrameType::kResize: (void)DecodeResize(frame.payload); break;
    case FrameType::kSignal: (void)DecodeSignal(frame.payload); break;
    case FrameType::kExit: (void)DecodeExit(frame.payload); break;
    case FrameType::kWindow: (void)DecodeWindow(frame.payload); break;
    case FrameType::kError: (void)DecodeError(frame.payload); break;
    case FrameType::kStarted: (void)DecodeStarted(frame.payload); break;
    case FrameType::kAttach: {
      // What the agent accepts, the host encodes the same way.
      auto attach = DecodeAttach(frame.payload);
      if (!attach.ok()) break;
      const std::vector<uint8_t> encoded = EncodeAttach(*attach);
      auto again = DecodeAttach(std::span(encoded).subspan(kFrameHeaderSize));
      if (!again.ok() || *again != *attach) abort();
      break;
    }
    default: break;
  }
}

void CheckExecRequest(std::span<const uint8_t> payload) {
  auto request = DecodeExecRequest(payload);
  if (!request.ok()) return;
  auto encoded = EncodeExecRequest(*request);
  if (!encoded.ok()) abort();  // what the agent accepts, the host can send
  auto again = DecodeExecRequest(std::span(*encoded).subspan(kFrameHeaderSize));
  if (!again.ok() || again->argv != request->argv || again->env != request->env ||
      again->cwd != request->cwd || again->user != request->user ||
      again->tty.has_value() != request->tty.has_value() || again->rlimits != request->rlimits) {
    abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> input(data, size);
  CheckExecRequest(input);
  if (input.empty()) return 0;
  // The first byte picks the chunk size, exercising partial headers/payloads.
  const size_t chunk = (input[0] % 16) + 1;
  input = input.subspan(1);
  FrameDecoder decoder;
  for (size_t at = 0; at < input.size(); at += chunk) {
    decoder.Feed(input.subspan(at, std::min(chunk, input.size() - at)));
    for (;;) {
      auto frame = decoder.Next();
      if (!frame.ok()) return 0;
      if (!frame->has_value()) break;
      if ((*frame)->type == FrameType::kExecRequest) CheckExecRequest((*frame)->payload);
      DecodePayload(**frame);
    }
  }
  return 0;
}
