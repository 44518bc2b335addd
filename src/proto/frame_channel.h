// FrameChannel: buffered, non-blocking frame I/O over one connected stream
// socket (unix or vsock). It owns neither the fd nor any policy: the exec
// client and the agent's exec server drive it from their poll loops.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/result.h"
#include "proto/frame.h"
#include "proto/messages.h"

namespace vk::proto {

// Above this many unsent bytes a loop stops producing more (it stops reading
// its inputs) until the peer drains the socket: bounds our outbound buffer
// against a peer that never reads.
inline constexpr size_t kOutboundHighWater = 512 * 1024;

// Whether a session still has to exchange Hello frames on its connection.
enum class HelloState {
  kPending,  // the session sends our Hello and expects the peer's first
  kDone,     // the caller already ran ExchangeHello() on this fd
};

class FrameChannel {
 public:
  // `fd` is not owned and is switched to non-blocking mode.
  static Result<FrameChannel> Create(int fd);

  int fd() const { return fd_; }
  void Queue(std::span<const uint8_t> encoded_frame);
  void QueueData(FrameType type, std::span<const uint8_t> data);
  size_t pending_out() const { return out_.size() - out_offset_; }
  size_t pending_in() const { return decoder_.buffered(); }
  bool WantsWrite() const { return pending_out() > 0; }
  bool HasRoom() const { return pending_out() < kOutboundHighWater; }

  // Sends what the socket accepts without blocking. An error means the peer
  // is gone.
  Result<void> Flush();
  // Blocks (polling) until everything queued is sent, or timeout_ms passes.
  Result<void> FlushBlocking(int timeout_ms);

  enum class ReadState { kOpen, kEof };
  // One non-blocking read into the decoder; kEof when the peer closed.
  Result<ReadState> Receive();
  // The next complete frame, if one has arrived.
  Result<std::optional<Frame>> Next() { return decoder_.Next(); }

 private:
  explicit FrameChannel(int fd) : fd_(fd) {}

  int fd_;
  std::vector<uint8_t> out_;
  size_t out_offset_ = 0;
  FrameDecoder decoder_;
};

// Sends our Hello and waits (at most timeout_ms) for the peer's, reading
// exactly that one frame so nothing after it is consumed. Fails on a wrong
// role or an incompatible major version. Works on blocking or non-blocking fds.
Result<Hello> ExchangeHello(int fd, Role our_role, int timeout_ms);
// Validates a Hello frame received inside a poll loop.
Result<Hello> AcceptHelloFrame(const Frame& frame, Role peer_role);
Hello OurHello(Role role);

}  // namespace vk::proto
