// The Internet checksum (RFC 1071): the 16-bit one's complement of the one's
// complement sum of the data, used by IPv4, ICMP, UDP and TCP. UDP and TCP
// also cover a pseudo-header of addresses, protocol and length (RFC 768,
// RFC 793 §3.1).
#pragma once

#include <cstdint>

#include "net/frame_bytes.h"

namespace vk::net {

// Whether to check the transport checksum. A virtio-net device that
// negotiated checksum offload passes guest packets with only the
// pseudo-header sum filled in, so it may have to trust the device instead.
enum class L4Checksum { kVerify, kSkip };

// Accumulates 16-bit big-endian words; an odd trailing byte is padded with
// zero (RFC 1071 §4.1). Chunks after the first odd-length one are misaligned,
// so callers add whole headers first and the odd-length payload last.
class ChecksumAccumulator {
 public:
  void Add(Bytes data);
  void Add16(uint16_t word) { sum_ += word; }
  void Add32(uint32_t value) {
    Add16(static_cast<uint16_t>(value >> 16));
    Add16(static_cast<uint16_t>(value));
  }
  // The value to store in the checksum field (folded and complemented).
  uint16_t Finish() const;

 private:
  uint64_t sum_ = 0;
};

uint16_t InternetChecksum(Bytes data);

// Checksum of an IPv4 pseudo-header (RFC 768) plus the transport segment,
// whose checksum field must already be zero (to compute) or hold the sent
// value (to verify: the result is then 0).
uint16_t TransportChecksum(uint32_t src_ip, uint32_t dst_ip, uint8_t protocol, Bytes segment);

}  // namespace vk::net
