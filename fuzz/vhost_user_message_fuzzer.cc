// Fuzzes the vhost-user message parser and the back end's state machine:
// the input is a stream of messages (12-byte header, then up to `size`
// payload bytes). Each is parsed (ParseMessage must refuse anything
// malformed, never crash), and each one that parses is applied to a
// VhostUserBackend serving a small fake device. No fds travel (a fuzzer
// has none to give), so memory tables and kick fds are refused, but every
// other request and ordering is reachable.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "base/event_loop.h"
#include "virtio/device.h"
#include "virtio/vhost_user/backend.h"
#include "virtio/vhost_user/message.h"

namespace {

using namespace vk::virtio;

class FuzzDevice : public VirtioDevice {
 public:
  DeviceType type() const override { return DeviceType::kRng; }
  std::string_view name() const override { return "fuzz"; }
  uint64_t features() const override { return 1; }
  std::vector<uint16_t> queue_max_sizes() const override { return {8, 4}; }
  void ReadConfig(uint64_t offset, std::span<uint8_t> data) override {
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(offset + i);
  }
  vk::Result<void> Activate(const DeviceContext&) override { return vk::Ok(); }
  void ProcessQueue(size_t) override {}
  void Reset() override {}
  vk::Result<void> SaveState(vk::StateWriter&) override { return vk::Ok(); }
  vk::Result<void> RestoreState(vk::StateReader&) override { return vk::Ok(); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<vk::EventLoop> loop = std::move(vk::EventLoop::Create().value());
  vhost_user::VhostUserBackend backend(std::make_unique<FuzzDevice>(), loop.get());
  std::span<const uint8_t> input(data, size);
  // The whole input as one message, as a header + payload split.
  if (input.size() >= vhost_user::kHeaderBytes) {
    (void)vhost_user::ParseMessage(input.first(vhost_user::kHeaderBytes),
                                   input.subspan(vhost_user::kHeaderBytes), {});
  }
  for (int i = 0; i < 64 && input.size() >= vhost_user::kHeaderBytes; ++i) {
    auto header_bytes = input.first(vhost_user::kHeaderBytes);
    input = input.subspan(vhost_user::kHeaderBytes);
    uint32_t claimed;
    std::memcpy(&claimed, header_bytes.data() + 8, 4);
    auto payload = input.first(std::min<size_t>(claimed, input.size()));
    input = input.subspan(payload.size());
    auto message = vhost_user::ParseMessage(header_bytes, payload, {});
    if (!message.ok()) continue;
    auto reply = backend.Handle(std::move(*message));
    if (!reply.ok()) break;  // the connection would be closed
  }
  return 0;
}
