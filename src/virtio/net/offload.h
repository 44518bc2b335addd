// Transmit offloads the device performs for the guest, so that backends
// (switch, stream sockets, slirp) always see complete, valid, MTU-sized
// frames: checksum completion (virtio 1.2 §5.1.6.2, VIRTIO_NET_F_CSUM) and
// TCPv4 segmentation (VIRTIO_NET_F_HOST_TSO4).
//
// Frames are guest-controlled; every offset is checked against the frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace vk::virtio::vnet {

// RFC 1071 one's-complement sum of `bytes` (big-endian 16-bit words, an odd
// tail padded with zero), added to `sum`. Fold with ChecksumFinish().
uint64_t ChecksumAdd(std::span<const uint8_t> bytes, uint64_t sum = 0);
// Folds a sum to 16 bits and complements it: the value to store.
uint16_t ChecksumFinish(uint64_t sum);

// NEEDS_CSUM (virtio 1.2 §5.1.6.2): the driver left the pseudo-header sum in
// the checksum field at csum_start + csum_offset; the device sums from
// csum_start to the end and stores the result there. False when the offsets
// fall outside the frame.
bool CompleteChecksum(std::span<uint8_t> frame, size_t csum_start, size_t csum_offset);

// Splits a TCPv4 GSO frame (Ethernet [+ one 802.1Q tag] / IPv4 / TCP /
// payload) into frames carrying at most `mss` payload bytes each, with IP
// total length, id and header checksum, and TCP sequence number, flags and
// checksum fixed per segment (as Linux's tcp_gso_segment does). Calls
// `emit` once per segment; `scratch` is reused between segments. False (and
// nothing emitted) when the frame is not a well-formed TCPv4 frame.
using SegmentSink = std::function<void(std::span<const uint8_t>)>;
bool SegmentTcpV4(std::span<const uint8_t> frame, uint16_t mss, std::vector<uint8_t>& scratch,
                  const SegmentSink& emit);

// Abuse bound: the smallest MSS we segment to (Linux never goes below 88,
// TCP_MIN_MSS), so one 64 KiB guest frame yields at most ~1000 segments.
inline constexpr uint16_t kMinMss = 64;

}  // namespace vk::virtio::vnet
