// Fuzzes the vsock packet path: the input is a sequence of guest tx packets
// (header + payload, any field value) fed through a fake virtqueue into the
// device, with rx buffers available for its replies. A host program listens
// on port 1024, so a guest REQUEST there opens a real connection and data,
// credit, shutdown and reset packets reach an established stream. Nothing
// the guest sends may crash the VMM or leak memory.
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "base/event_loop.h"
#include "base/unique_fd.h"
#include "base/unix_socket.h"
#include "virtio/testing/fake_virtqueue.h"
#include "virtio/vsock/vsock_device.h"
#include "virtio/vsock/vsock_packet.h"

using namespace vk;
using namespace vk::virtio;

namespace {

constexpr uint32_t kListeningPort = 1024;

// The host side, once per process: a private directory holding the device's
// socket and a program listening on <uds>_1024 (Firecracker's naming).
class Host {
 public:
  Host() {
    char path[] = "/tmp/vk-vsock-fuzz.XXXXXX";
    if (::mkdtemp(path) == nullptr) std::abort();
    dir_ = path;
    auto listener =
        ListenUnix(uds() + "_" + std::to_string(kListeningPort), 64, SocketBlocking::kNonBlocking);
    if (!listener.ok()) std::abort();
    listener_ = std::move(*listener);
  }
  ~Host() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::string uds() const { return dir_ + "/v.sock"; }
  // Accepts and closes what the last input connected, so the backlog never
  // fills and every input starts alike.
  void Drain() {
    while (UniqueFd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC))) {
    }
  }

 private:
  std::string dir_;
  UniqueFd listener_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Host host;
  testing::FakeGuest guest(1 << 20);
  std::vector<Queue> queues{Queue(64), Queue(64), Queue(8)};
  testing::FakeVirtqueue rx(guest, queues[0]), tx(guest, queues[1]);
  auto loop = EventLoop::Create();
  auto device = CreateVsockDevice({3, host.uds()});
  if (!loop.ok() || !device.ok()) return 0;
  testing::FakeDeviceContext context(guest, queues, loop->get());
  if (!(*device)->Activate(context.context).ok()) return 0;
  for (int i = 0; i < 16; ++i) rx.AddChain({}, {4096 + 44});
  // Each packet: a 44-byte header from the input (cid fields forced valid half
  // of the time so deeper states are reached), then up to 64 payload bytes.
  size_t offset = 0;
  for (int packets = 0; packets < 32 && offset + sizeof(vsock::PacketHeader) <= size; ++packets) {
    std::vector<uint8_t> packet(data + offset, data + offset + sizeof(vsock::PacketHeader));
    offset += packet.size();
    if (packet[0] & 1) {
      auto* h = reinterpret_cast<vsock::PacketHeader*>(packet.data());
      h->src_cid = 3;
      h->dst_cid = 2;
      h->type = vsock::kTypeStream;
    }
    size_t payload = std::min<size_t>(size - offset, data[offset - 1] % 64);
    packet.insert(packet.end(), data + offset, data + offset + payload);
    offset += payload;
    tx.AddChain({packet}, {});
    std::lock_guard lock(context.lock);
    (*device)->ProcessQueue(1);
  }
  (*device)->Reset();
  host.Drain();
  return 0;
}
