// Exec-channel framing (docs/protocol.md): every frame is
//   u32 big-endian payload length | u8 type | payload
// The length counts the payload only, not the 5-byte header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/result.h"

namespace vk::proto {

enum class FrameType : uint8_t {
  kHello = 1,        // both directions, first frame on a connection
  kExecRequest = 2,  // host -> agent, once, right after the hellos
  kStdin = 3,        // host -> agent, raw bytes
  kStdout = 4,       // agent -> host, raw bytes
  kStderr = 5,       // agent -> host, raw bytes (never sent in tty mode)
  kStdinClose = 6,   // host -> agent, empty payload
  kResize = 7,       // host -> agent
  kSignal = 8,       // host -> agent
  kExit = 9,         // agent -> host, last frame the agent sends
  kWindow = 10,      // both directions: credit for one data stream
  kError = 11,       // either direction: fatal protocol or setup error text
  // Since 1.1:
  kStarted = 12,  // agent -> host, once the command runs: its pid (to a 1.1 host only)
  kAttach = 13,   // host -> agent, instead of ExecRequest: resume a kept command
};

inline constexpr size_t kFrameHeaderSize = 5;
// Largest payload a decoder accepts. Bounds the memory one peer can make the
// other buffer for a single frame (abuse bound); an ExecRequest (argv + env)
// must fit in it.
inline constexpr size_t kMaxFramePayload = 256 * 1024;
// Largest data payload a sender puts in one stdin/stdout/stderr frame.
inline constexpr size_t kMaxDataChunk = 32 * 1024;

bool IsKnownFrameType(uint8_t type);
const char* FrameTypeName(FrameType type);

struct Frame {
  FrameType type;
  std::vector<uint8_t> payload;
};

// Appends one encoded frame to `out`. The payload must not exceed
// kMaxFramePayload (a host invariant: our own encoders never produce more).
void AppendFrame(std::vector<uint8_t>& out, FrameType type, std::span<const uint8_t> payload);
std::vector<uint8_t> EncodeFrame(FrameType type, std::span<const uint8_t> payload);

// Incremental decoder: feed it bytes as they arrive, pull frames out.
// Truncated input yields "no frame yet"; an oversized length or unknown type
// yields an error, after which the decoder stays failed (the stream has lost
// its framing and the connection must be dropped).
class FrameDecoder {
 public:
  void Feed(std::span<const uint8_t> bytes);
  // A frame, std::nullopt when more bytes are needed, or an error.
  Result<std::optional<Frame>> Next();
  // Bytes received but not yet returned as frames.
  size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  std::vector<uint8_t> buffer_;
  size_t consumed_ = 0;
  bool failed_ = false;
};

}  // namespace vk::proto
