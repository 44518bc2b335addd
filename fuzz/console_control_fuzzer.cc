// Fuzzes the multiport virtio-console (virtio 1.2 §5.3): a 3-port device
// (0: an hvc console, 1: a named port on pipes, 2: a named port on one
// socket) driven by arbitrary control-tx chains, control and data rx
// buffers, guest output and host input/EOF. Nothing the guest or the host
// side does may crash, hang or touch memory outside the fake guest RAM.
//
// Input: byte 0, bit 0: the driver negotiates VIRTIO_CONSOLE_F_MULTIPORT.
// Then records [kind u8][len u8][...]; port = (kind >> 3) % 3:
//   kind & 7 = 0: control tx chain of the len bytes that follow, split in
//                 two descriptors at len * (kind >> 3) / 32
//              1: control rx buffer of len bytes (no bytes follow)
//              2: port tx chain of the len bytes that follow
//              3: port rx buffer of len bytes (no bytes follow)
//              4: host input: the len bytes that follow, written to the port
//              5: host closes the port's input (EOF)
//              6: a well-formed control message built from the next 3 bytes
//                 (id % 4, event % 9, value % 2), to reach the handshake states
//              7: device Reset and re-Activate
// After each record the device thread's loop runs once without waiting.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "base/event_loop.h"
#include "base/unique_fd.h"
#include "virtio/console/multiport_console_device.h"
#include "virtio/testing/fake_virtqueue.h"

namespace {

using vk::UniqueFd;
using vk::virtio::Queue;
using vk::virtio::testing::FakeDeviceContext;
using vk::virtio::testing::FakeGuest;
using vk::virtio::testing::FakeVirtqueue;
namespace vcon = vk::virtio::vcon;

constexpr uint32_t kPorts = 3;
constexpr size_t kGuestRam = 2 << 20;
constexpr size_t kAllocBudget = kGuestRam - (256 << 10);  // FakeGuest aborts when full

struct Input {
  const uint8_t* data;
  size_t size;
  bool Take(size_t n, const uint8_t** out) {
    if (n > size) return false;
    *out = data, data += n, size -= n;
    return true;
  }
};

// The host ends of the ports: [0] what the device reads/writes, [1] the peer.
struct HostFds {
  UniqueFd input[kPorts][2];
  UniqueFd null;
  HostFds() {
    for (uint32_t port = 0; port < 2; ++port) {
      int fds[2];
      if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) std::abort();
      input[port][0].Reset(fds[0]), input[port][1].Reset(fds[1]);
    }
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
      std::abort();
    }
    input[2][0].Reset(fds[0]), input[2][1].Reset(fds[1]);
    null.Reset(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  }
};

// A chain of `len` bytes in up to two descriptors (an empty part is left
// out; nothing left becomes one zero-length writable buffer).
void AddChain(FakeVirtqueue& vq, const uint8_t* bytes, size_t len, size_t split) {
  std::vector<std::vector<uint8_t>> parts;
  if (split > 0) parts.emplace_back(bytes, bytes + split);
  if (split < len) parts.emplace_back(bytes + split, bytes + len);
  if (parts.empty()) {
    vq.AddChain({}, {0});
  } else {
    vq.AddChain(parts, {});
  }
}

void DrainUsed(std::vector<FakeVirtqueue>& vqs) {
  for (FakeVirtqueue& vq : vqs) {
    while (vq.NextUsed()) {
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  Input in{data + 1, size - 1};
  HostFds host;
  auto loop = vk::EventLoop::Create();
  if (!loop.ok()) std::abort();
  vk::virtio::MultiportConsoleConfig config;
  config.ports = {
      {.input_fd = host.input[0][0].get(), .output_fd = host.null.get(), .console = true},
      {.name = "org.vk.exec", .input_fd = host.input[1][0].get()},
      {.name = "agent", .input_fd = host.input[2][0].get(), .output_fd = host.input[2][0].get()},
  };
  auto device = vk::virtio::CreateMultiportConsoleDevice(std::move(config));
  if (!device.ok()) std::abort();
  FakeGuest guest(kGuestRam);
  std::vector<Queue> queues(2 * (kPorts + 1), Queue(16));
  std::vector<FakeVirtqueue> vqs;
  vqs.reserve(queues.size());
  for (Queue& queue : queues) vqs.emplace_back(guest, queue);
  FakeDeviceContext context(guest, std::span(queues), loop->get());
  context.context.driver_features =
      vk::virtio::kFeatureVersion1 | ((data[0] & 1) ? vcon::kFeatureMultiport : 0);
  if (!(*device)->Activate(context.context).ok()) std::abort();

  size_t allocated = 0;
  const uint8_t* record;
  while (in.Take(2, &record)) {
    uint8_t kind = record[0], len = record[1];
    uint32_t port = (kind >> 3) % kPorts;
    const uint8_t* bytes = nullptr;
    bool takes_bytes = (kind & 7) == 0 || (kind & 7) == 2 || (kind & 7) == 4;
    if (takes_bytes && !in.Take(len, &bytes)) break;
    if ((kind & 7) == 6 && !in.Take(3, &bytes)) break;
    if ((allocated += len + 64) > kAllocBudget) break;
    {
      std::lock_guard lock(context.lock);  // as the transport calls in
      switch (kind & 7) {
        case 0:
          AddChain(vqs[vcon::kControlTransmitQueue], bytes, len, len * (kind >> 3) / 32);
          (*device)->ProcessQueue(vcon::kControlTransmitQueue);
          break;
        case 1:
          vqs[vcon::kControlReceiveQueue].AddChain({}, {len});
          (*device)->ProcessQueue(vcon::kControlReceiveQueue);
          break;
        case 2:
          AddChain(vqs[vcon::TransmitQueue(port)], bytes, len, len / 2);
          (*device)->ProcessQueue(vcon::TransmitQueue(port));
          break;
        case 3:
          vqs[vcon::ReceiveQueue(port)].AddChain({}, {len});
          (*device)->ProcessQueue(vcon::ReceiveQueue(port));
          break;
        case 4: {
          ssize_t ignored = ::write(host.input[port][1].get(), bytes, len);
          (void)ignored;
          break;
        }
        case 5: host.input[port][1].Reset(); break;
        case 6: {
          vcon::ControlHeader header{.id = bytes[0] % 4u,
                                     .event = static_cast<uint16_t>(bytes[1] % 9),
                                     .value = static_cast<uint16_t>(bytes[2] % 2)};
          uint8_t message[sizeof(header)];
          std::memcpy(message, &header, sizeof(header));
          vqs[vcon::kControlTransmitQueue].AddChain({{message, message + sizeof(message)}}, {});
          (*device)->ProcessQueue(vcon::kControlTransmitQueue);
          break;
        }
        case 7:
          (*device)->Reset();
          if (!(*device)->Activate(context.context).ok()) std::abort();
          break;
      }
      DrainUsed(vqs);
    }
    // The device's own callbacks take the lock themselves.
    if (!(*loop)->RunOnce(0).ok()) std::abort();
    std::lock_guard lock(context.lock);
    DrainUsed(vqs);
  }
  (*device)->Reset();
  return 0;
}
