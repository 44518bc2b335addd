// DatagramPort: an Ethernet port over a file descriptor that carries one
// frame per read()/write(), with no framing of its own: a connected unix
// datagram socket (gvproxy's and vfkit's unixgram networks, libkrun's
// krun_add_net_unixgram) or a tap device opened without packet information
// (krun_add_net_tap). Frames read go to a peer FrameSink (a NetDevice);
// frames Deliver()ed are written at once, or dropped when the descriptor
// would block: on a datagram link, dropping is the back-pressure.
//
// Threading: the descriptor's reads belong to one EventLoop; Deliver() may
// be called from any thread (a write of one datagram is atomic).
#pragma once

#include <cstdint>
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

struct DatagramPortCounters {
  uint64_t rx_frames = 0, rx_dropped = 0;  // fd -> peer (dropped: peer refused, bad size)
  uint64_t tx_frames = 0, tx_dropped = 0;  // Deliver() -> fd (dropped: would block, error)
};

class DatagramPort : public FrameSink {
 public:
  // `peer` is non-owning and may be null (incoming frames are dropped).
  static Result<std::unique_ptr<DatagramPort>> Create(EventLoop& loop, UniqueFd fd,
                                                      FrameSink* peer);
  ~DatagramPort() override;
  DatagramPort(const DatagramPort&) = delete;
  DatagramPort& operator=(const DatagramPort&) = delete;

  void SetPeer(FrameSink* peer) { peer_ = peer; }
  DatagramPortCounters counters() const;

  // False when dropped: empty or over kMaxFrame, the descriptor is full or
  // gone. A peer that went away (ECONNREFUSED) may come back: only the
  // frame is lost.
  bool Deliver(std::span<const uint8_t> frame) override;

 private:
  DatagramPort(EventLoop& loop, UniqueFd fd, FrameSink* peer);
  void ReadAvailable();

  EventLoop& loop_;
  FrameSink* peer_;  // non-owning
  UniqueFd fd_;
  // Loop thread only, made once (not per frame): one byte more than the
  // largest frame, so a longer datagram shows by its size that it was cut.
  std::vector<uint8_t> read_buffer_;
  mutable std::mutex mutex_;  // guards counters_
  DatagramPortCounters counters_;
};

// A unix datagram socket connected to `peer_path`, bound first to a fresh
// name `local_path` (the peer answers to it; it is removed again when the
// returned socket's owner is done: the caller unlinks it). `greeting`, when
// not empty, is sent first (vfkit's "VFKT" for gvproxy).
Result<UniqueFd> ConnectUnixDatagram(const std::string& peer_path, const std::string& local_path,
                                     std::span<const uint8_t> greeting = {});

// A tap device `name` opened through /dev/net/tun as a plain Ethernet tap
// (IFF_TAP | IFF_NO_PI), non-blocking. EPERM when the caller may not use
// it (it exists and is someone else's, or may not be created).
Result<UniqueFd> OpenTap(const std::string& name);

}  // namespace vk::net
