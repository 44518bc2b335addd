// StreamPort: an Ethernet port over a connected unix stream socket, each
// frame prefixed by its length as a u32 big-endian (the framing of QEMU's
// `-netdev stream`/`-netdev socket` and gvisor-tap-vsock; DESIGN.md §4).
// Frames arriving on the socket go to a peer FrameSink (a NetDevice, a
// switch port); frames Deliver()ed to the port are written to the socket.
//
// Threading: the socket is served by one EventLoop; the read side, SetPeer,
// the disconnect callback and destruction belong to that loop's thread (or
// to a time the loop is not running). Deliver() may be called from any
// thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "base/event_loop.h"
#include "base/frame_sink.h"
#include "base/result.h"
#include "base/unique_fd.h"

namespace vk::net {

// Reassembles length-prefixed frames from a byte stream fed in pieces of any
// size. A length of 0 or above kMaxFrame means the stream is not speaking
// this protocol (or lost sync): Feed() fails, now and on every later call.
class StreamFrameReader {
 public:
  using FrameCallback = std::function<void(std::span<const uint8_t>)>;
  Result<void> Feed(std::span<const uint8_t> bytes, const FrameCallback& on_frame);

 private:
  uint8_t prefix_[4] = {};
  size_t prefix_have_ = 0;
  uint32_t length_ = 0;
  std::vector<uint8_t> frame_;  // a frame split across Feed() calls
  bool failed_ = false;
};

struct StreamPortOptions {
  // Abuse bound: bytes queued for a socket reader that does not keep up.
  // Beyond it frames are dropped (whole frames, so framing survives).
  size_t max_outgoing_bytes = 1 << 20;
};

struct StreamPortCounters {
  uint64_t rx_frames = 0, rx_dropped = 0;  // socket -> peer (dropped: peer refused)
  uint64_t tx_frames = 0, tx_dropped = 0;  // Deliver() -> socket
};

class StreamPort : public FrameSink {
 public:
  // Called once, on the loop thread, when the connection ends (EOF, socket
  // error, bad framing). The port may be destroyed from inside it.
  using DisconnectCallback = std::function<void(const Error& why)>;

  // `peer` is non-owning and may be null (incoming frames are dropped).
  static Result<std::unique_ptr<StreamPort>> Create(EventLoop& loop, UniqueFd socket,
                                                    FrameSink* peer,
                                                    StreamPortOptions options = {});
  ~StreamPort() override;
  StreamPort(const StreamPort&) = delete;
  StreamPort& operator=(const StreamPort&) = delete;

  void SetPeer(FrameSink* peer) { peer_ = peer; }
  void SetDisconnectCallback(DisconnectCallback callback) { on_disconnect_ = std::move(callback); }
  bool connected() const;
  StreamPortCounters counters() const;

  // A frame to send. False when dropped: disconnected, frame empty or over
  // kMaxFrame, or the outgoing buffer is full.
  bool Deliver(std::span<const uint8_t> frame) override;

 private:
  StreamPort(EventLoop& loop, UniqueFd socket, FrameSink* peer, StreamPortOptions options);
  void OnEvent(uint32_t events);
  // Reads what the socket has; false when the connection was dropped.
  bool ReadAvailable();
  void HandleFrame(std::span<const uint8_t> frame);
  void FlushLocked();
  void Disconnect(const Error& why);

  EventLoop& loop_;
  StreamPortOptions options_;
  FrameSink* peer_;  // non-owning
  DisconnectCallback on_disconnect_;
  StreamFrameReader reader_;  // loop thread only

  mutable std::mutex mutex_;  // guards everything below
  UniqueFd socket_;
  std::vector<uint8_t> out_;  // unsent bytes start at out_head_
  size_t out_head_ = 0;
  bool write_failed_ = false;
  StreamPortCounters counters_;
};

// A connected, non-blocking, close-on-exec unix stream socket.
Result<UniqueFd> ConnectUnixStream(const std::string& path);
// A listening, non-blocking, close-on-exec unix stream socket bound to
// `path` (a stale socket file there is replaced; any other file is not).
Result<UniqueFd> ListenUnixStream(const std::string& path);
// The next pending connection on `listener`, non-blocking; an error with
// errno EAGAIN when there is none.
Result<UniqueFd> AcceptUnixStream(int listener);

}  // namespace vk::net
