// Fuzzes virtio-net's guest- and network-facing parsers: transmit chains
// (header, checksum offsets, TSO segmentation), rx buffer filling with and
// without mergeable buffers, and the length-prefixed stream reassembler of
// net::StreamPort. Nothing may crash, hang or touch memory outside the fake
// guest RAM, and every frame that leaves the device must be sane.
//
// Input: byte 0 picks the target (bit 0) and negotiated features (bits 1-2).
//   device: records [kind u8][len u16 le][len bytes]; kind & 3: 0 tx chain
//           (split in two at a point from kind >> 2), 1 frame for the guest,
//           2 rx buffer of len bytes, 3 rx notification.
//   stream: records [chunk u8][chunk bytes], fed to one reader.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "net/stream_port.h"
#include "virtio/net/net_device.h"
#include "virtio/testing/fake_virtqueue.h"

namespace {

using vk::virtio::NetDevice;
using vk::virtio::Queue;
using vk::virtio::testing::FakeDeviceContext;
using vk::virtio::testing::FakeGuest;
using vk::virtio::testing::FakeVirtqueue;

constexpr size_t kGuestRam = 2 << 20;
constexpr size_t kAllocBudget = kGuestRam - (256 << 10);  // FakeGuest aborts when full

class CheckingSink : public vk::net::FrameSink {
 public:
  bool Deliver(std::span<const uint8_t> frame) override {
    // Whatever the guest wrote, only whole Ethernet-sized frames leave.
    if (frame.size() < 14 || frame.size() > vk::net::kMaxFrame) std::abort();
    return true;
  }
};

struct Input {
  const uint8_t* data;
  size_t size;
  bool Take(size_t n, const uint8_t** out) {
    if (n > size) return false;
    *out = data, data += n, size -= n;
    return true;
  }
};

// A transmit chain of `len` bytes in two descriptors split at `split`. An
// empty part is left out (FakeGuest::Write would memcpy from an empty
// vector's null data(), undefined behaviour in the harness, not the device);
// nothing left becomes a chain holding only a zero-length writable buffer.
void AddTxChain(FakeVirtqueue& tx, const uint8_t* bytes, size_t len, size_t split) {
  std::vector<std::vector<uint8_t>> parts;
  if (split > 0) parts.emplace_back(bytes, bytes + split);
  if (split < len) parts.emplace_back(bytes + split, bytes + len);
  if (parts.empty()) {
    tx.AddChain({}, {0});
  } else {
    tx.AddChain(parts, {});
  }
}

void FuzzDevice(uint8_t flags, Input in) {
  FakeGuest guest(kGuestRam);
  std::vector<Queue> queues{Queue(16), Queue(16)};
  FakeVirtqueue rx(guest, queues[0]), tx(guest, queues[1]);
  FakeDeviceContext context(guest, std::span(queues));
  context.context.driver_features = vk::virtio::kFeatureVersion1 | vk::virtio::vnet::kFeatureCsum |
                                    ((flags & 2) ? vk::virtio::vnet::kFeatureMrgRxBuf : 0) |
                                    ((flags & 4) ? vk::virtio::vnet::kFeatureHostTso4 : 0);
  vk::virtio::NetOptions options;
  options.mtu = (flags & 8) ? 9000 : 1500;
  auto device = NetDevice::Create(options);
  CheckingSink sink;
  (*device)->SetBackend(&sink);
  if (!(*device)->Activate(context.context).ok()) std::abort();
  size_t allocated = 0;
  const uint8_t* record;
  while (in.Take(3, &record)) {
    uint8_t kind = record[0];
    size_t len = record[1] | size_t{record[2]} << 8;
    const uint8_t* bytes;
    if ((kind & 3) != 2 && !in.Take(len, &bytes)) break;
    if ((allocated += len + 64) > kAllocBudget) break;
    std::lock_guard lock(context.lock);
    switch (kind & 3) {
      case 0: {
        AddTxChain(tx, bytes, len, len * (kind >> 2) / 64);
        (*device)->ProcessQueue(1);
        break;
      }
      case 1: (*device)->Deliver({bytes, len}); break;
      case 2: rx.AddChain({}, {static_cast<uint32_t>(len)}); break;
      case 3: (*device)->ProcessQueue(0); break;
    }
    while (tx.NextUsed()) {
    }
    while (rx.NextUsed()) {
    }
  }
  (*device)->Reset();
}

void FuzzStream(Input in) {
  vk::net::StreamFrameReader reader;
  const uint8_t* chunk_size;
  while (in.Take(1, &chunk_size)) {
    const uint8_t* bytes;
    size_t n = std::min<size_t>(*chunk_size, in.size);
    in.Take(n, &bytes);
    auto fed = reader.Feed({bytes, n}, [](std::span<const uint8_t> frame) {
      if (frame.empty() || frame.size() > vk::net::kMaxFrame) std::abort();
    });
    if (!fed.ok()) return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  Input in{data + 1, size - 1};
  if (data[0] & 1) {
    FuzzStream(in);
  } else {
    FuzzDevice(data[0], in);
  }
  return 0;
}
