#include "proto/frame.h"

#include <unistd.h>

#include <cstdlib>

#include "proto/str_format.h"

namespace vk::proto {

bool IsKnownFrameType(uint8_t type) {
  return type >= static_cast<uint8_t>(FrameType::kHello) &&
         type <= static_cast<uint8_t>(FrameType::kAttach);
}

const char* FrameTypeName(FrameType type) {
  switch (type) {
    case FrameType::kHello: return "Hello";
    case FrameType::kExecRequest: return "ExecRequest";
    case FrameType::kStdin: return "Stdin";
    case FrameType::kStdout: return "Stdout";
    case FrameType::kStderr: return "Stderr";
    case FrameType::kStdinClose: return "StdinClose";
    case FrameType::kResize: return "Resize";
    case FrameType::kSignal: return "Signal";
    case FrameType::kExit: return "Exit";
    case FrameType::kWindow: return "Window";
    case FrameType::kError: return "Error";
    case FrameType::kStarted: return "Started";
    case FrameType::kAttach: return "Attach";
  }
  return "unknown";
}

void AppendFrame(std::vector<uint8_t>& out, FrameType type, std::span<const uint8_t> payload) {
  if (payload.size() > kMaxFramePayload) {
    // Our encoders bound every payload; reaching this is a programming error.
    const std::string message =
        StrFormat("vk: internal error: {} frame of {} bytes exceeds the frame limit\n",
                  FrameTypeName(type), payload.size());
    (void)!write(STDERR_FILENO, message.data(), message.size());
    std::abort();
  }
  const auto length = static_cast<uint32_t>(payload.size());
  out.push_back(static_cast<uint8_t>(length >> 24));
  out.push_back(static_cast<uint8_t>(length >> 16));
  out.push_back(static_cast<uint8_t>(length >> 8));
  out.push_back(static_cast<uint8_t>(length));
  out.push_back(static_cast<uint8_t>(type));
  out.insert(out.end(), payload.begin(), payload.end());
}

std::vector<uint8_t> EncodeFrame(FrameType type, std::span<const uint8_t> payload) {
  std::vector<uint8_t> out;
  out.reserve(kFrameHeaderSize + payload.size());
  AppendFrame(out, type, payload);
  return out;
}

void FrameDecoder::Feed(std::span<const uint8_t> bytes) {
  // Compact lazily so a long stream of small frames does not grow the buffer.
  if (consumed_ > 0 && consumed_ >= buffer_.size() / 2) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(consumed_));
    consumed_ = 0;
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

Result<std::optional<Frame>> FrameDecoder::Next() {
  if (failed_) return Error("frame stream is corrupt");
  if (buffered() < kFrameHeaderSize) return std::optional<Frame>();
  const uint8_t* header = buffer_.data() + consumed_;  // peer-controlled
  const uint32_t length = (uint32_t{header[0]} << 24) | (uint32_t{header[1]} << 16) |
                          (uint32_t{header[2]} << 8) | uint32_t{header[3]};
  const uint8_t type = header[4];
  if (length > kMaxFramePayload) {
    failed_ = true;
    return Error(
        StrFormat("frame of {} bytes exceeds the {} byte limit", length, kMaxFramePayload));
  }
  if (!IsKnownFrameType(type)) {
    failed_ = true;
    return Error(StrFormat("unknown frame type {}", type));
  }
  if (buffered() - kFrameHeaderSize < length) return std::optional<Frame>();
  const uint8_t* payload = header + kFrameHeaderSize;
  Frame frame{static_cast<FrameType>(type), std::vector<uint8_t>(payload, payload + length)};
  consumed_ += kFrameHeaderSize + length;
  return std::optional<Frame>(std::move(frame));
}

}  // namespace vk::proto
