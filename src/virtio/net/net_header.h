// Wire layout of the virtio-net device (virtio 1.2 §5.1): feature bits,
// configuration space and the per-packet header. Everything here is shared
// by the device, its offload helpers, tests and the fuzzer.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vk::virtio::vnet {

// Feature bits, virtio 1.2 §5.1.3.
inline constexpr uint64_t kFeatureCsum = 1ull << 0;       // device completes tx checksums
inline constexpr uint64_t kFeatureGuestCsum = 1ull << 1;  // driver takes partial rx checksums
inline constexpr uint64_t kFeatureMtu = 1ull << 3;        // config.mtu is valid
inline constexpr uint64_t kFeatureMac = 1ull << 5;        // config.mac is valid
inline constexpr uint64_t kFeatureHostTso4 = 1ull << 11;  // device segments TCPv4 GSO frames
inline constexpr uint64_t kFeatureMrgRxBuf = 1ull << 15;  // rx frames may span buffers
inline constexpr uint64_t kFeatureStatus = 1ull << 16;    // config.status is valid

// Configuration space offsets, virtio 1.2 §5.1.4 (struct virtio_net_config).
inline constexpr size_t kConfigMac = 0;
inline constexpr size_t kConfigStatus = 6;
inline constexpr size_t kConfigMaxQueuePairs = 8;
inline constexpr size_t kConfigMtu = 10;
inline constexpr size_t kConfigSpeed = 12;
inline constexpr size_t kConfigDuplex = 16;
inline constexpr size_t kConfigSize = 24;
inline constexpr uint16_t kStatusLinkUp = 1;

// virtio 1.2 §5.1.6: with VERSION_1 every packet starts with this 12-byte
// header (num_buffers is always present). Little-endian on the wire; we only
// run on little-endian hosts (x86_64), so fields are read as-is.
struct NetHeader {
  uint8_t flags;
  uint8_t gso_type;
  uint16_t hdr_len;
  uint16_t gso_size;
  uint16_t csum_start;
  uint16_t csum_offset;
  uint16_t num_buffers;
};
static_assert(sizeof(NetHeader) == 12);
inline constexpr size_t kNetHeaderSize = sizeof(NetHeader);

inline constexpr uint8_t kHeaderNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
inline constexpr uint8_t kHeaderDataValid = 2;  // VIRTIO_NET_HDR_F_DATA_VALID
inline constexpr uint8_t kGsoNone = 0;          // VIRTIO_NET_HDR_GSO_NONE
inline constexpr uint8_t kGsoTcpV4 = 1;         // VIRTIO_NET_HDR_GSO_TCPV4
inline constexpr uint8_t kGsoEcn = 0x80;        // VIRTIO_NET_HDR_GSO_ECN

}  // namespace vk::virtio::vnet
