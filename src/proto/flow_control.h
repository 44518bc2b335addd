// Credit-based flow control for the exec channel's data streams
// (docs/protocol.md, "Flow control"). The receiver of a stream grants the
// sender credit in Window frames as it hands data on to its destination, so
// neither side ever buffers more than kInitialWindow bytes of a slow stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "base/result.h"
#include "proto/messages.h"

namespace vk::proto {

// Peak buffer sizes one side of a session saw (tests and diagnostics).
struct BufferStats {
  size_t peak_outbound = 0;  // bytes queued for the socket
  size_t peak_inbound = 0;   // bytes received and not yet handed to their destination
  void Note(size_t outbound, size_t inbound) {
    if (outbound > peak_outbound) peak_outbound = outbound;
    if (inbound > peak_inbound) peak_inbound = inbound;
  }
};

// Sender side: how many bytes of one stream the peer lets us send.
class SendCredit {
 public:
  size_t available() const { return static_cast<size_t>(available_); }
  void Consume(size_t bytes) { available_ -= bytes; }
  // A Window frame from the peer; more than kMaxWindow outstanding is a
  // protocol violation.
  Result<void> Grant(uint32_t bytes);

 private:
  uint64_t available_ = kInitialWindow;
};

// Receiver side: credit we granted and have not seen used, and bytes we
// consumed but have not yet reported back.
class ReceiveWindow {
 public:
  // Data arrived from the peer; more than granted is a protocol violation.
  Result<void> OnData(size_t bytes);
  // Data left our buffer for its destination (or was discarded).
  void OnConsumed(size_t bytes) { unreported_ += bytes; }
  // Credit to return now, if any: batched to a quarter window to keep Window
  // frames rare, but returned at once when our buffer ran empty so a peer
  // never waits on a half-used window.
  std::optional<uint32_t> TakeUpdate(bool buffer_empty);

 private:
  uint64_t outstanding_ = kInitialWindow;
  uint64_t unreported_ = 0;
};

}  // namespace vk::proto
