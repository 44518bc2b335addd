// virtio-vsock packet header (virtio 1.2 §5.10.6), little-endian on the wire.
#pragma once

#include <cstdint>

namespace vk::virtio::vsock {

struct PacketHeader {
  uint64_t src_cid;
  uint64_t dst_cid;
  uint32_t src_port;
  uint32_t dst_port;
  uint32_t len;
  uint16_t type;
  uint16_t op;
  uint32_t flags;
  uint32_t buf_alloc;
  uint32_t fwd_cnt;
} __attribute__((packed));
static_assert(sizeof(PacketHeader) == 44);

inline constexpr uint16_t kTypeStream = 1;
enum Op : uint16_t {
  kOpRequest = 1,
  kOpResponse = 2,
  kOpRst = 3,
  kOpShutdown = 4,
  kOpRw = 5,
  kOpCreditUpdate = 6,
  kOpCreditRequest = 7,
};
inline constexpr uint32_t kShutdownReceive = 1;
inline constexpr uint32_t kShutdownSend = 2;
inline constexpr uint64_t kHostCid = 2;

}  // namespace vk::virtio::vsock
