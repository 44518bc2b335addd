// FrameSink: where Ethernet frames go. A switch port delivers to one (the
// virtio-net device of a VM, a stream-socket peer, a test), and a switch
// port is one (frames a VM sends). Frames are complete Ethernet II frames
// without FCS, at most kMaxFrame bytes; the callee copies what it keeps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace vk::net {

inline constexpr size_t kMaxFrame = 65535 + 14;  // largest frame with TSO/big MTU
inline constexpr size_t kDefaultMtu = 1500;

class FrameSink {
 public:
  virtual ~FrameSink() = default;
  // Returns false when the frame was dropped (receiver full): frames are
  // datagrams, and dropping is how an Ethernet segment applies back-pressure.
  virtual bool Deliver(std::span<const uint8_t> frame) = 0;
};

}  // namespace vk::net
