// Tests of Ethernet ports: a FrameSink that keeps what it is given, and
// frames of a recognisable pattern.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/frame_sink.h"

namespace vk::net::testing {

// Keeps every frame delivered; answers `accept` (false: as a full receiver).
class FrameRecorder : public FrameSink {
 public:
  bool Deliver(std::span<const uint8_t> frame) override {
    frames.emplace_back(frame.begin(), frame.end());
    return accept;
  }
  std::vector<std::vector<uint8_t>> frames;
  bool accept = true;
};

// `size` bytes counting up from `seed`.
inline std::vector<uint8_t> PatternFrame(size_t size, uint8_t seed) {
  std::vector<uint8_t> frame(size);
  for (size_t i = 0; i < size; ++i) frame[i] = static_cast<uint8_t>(seed + i);
  return frame;
}

}  // namespace vk::net::testing
