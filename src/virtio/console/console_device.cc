#include "virtio/console/console_device.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "virtio/queue_drain.h"

namespace vk::virtio {
namespace {

constexpr size_t kReceiveQueue = 0, kTransmitQueue = 1;
// Abuse bound: bytes of guest output handled per transmit chain.
constexpr uint64_t kMaxChunk = 64 * 1024;

class ConsoleDevice : public VirtioDevice {
 public:
  explicit ConsoleDevice(ConsoleConfig config) : config_(config) {}
  ~ConsoleDevice() override { Reset(); }

  DeviceType type() const override { return DeviceType::kConsole; }
  std::string_view name() const override { return "virtio-console"; }
  uint64_t features() const override { return 0; }
  std::vector<uint16_t> queue_max_sizes() const override { return {64, 64}; }
  void ReadConfig(uint64_t, std::span<uint8_t> data) override {
    std::memset(data.data(), 0, data.size());  // no size, one port, no emergency write
  }

  Result<void> Activate(const DeviceContext& context) override {
    context_ = context;
    if (config_.input_fd >= 0) {
      VK_TRY(context.loop->Add(config_.input_fd, EPOLLIN, [this](uint32_t) {
        std::lock_guard lock(*context_.lock);
        ReceiveInput();
      }));
      watching_input_ = true;
    }
    return Ok();
  }

  void ProcessQueue(size_t index) override {
    if (index == kTransmitQueue) Transmit();
    if (index == kReceiveQueue && watching_input_) {
      auto resumed = context_.loop->Modify(config_.input_fd, EPOLLIN);
      (void)resumed;
    }
  }

  void Reset() override {
    if (watching_input_) context_.loop->Remove(config_.input_fd);
    watching_input_ = false;
  }

  // Output is written synchronously and input is read only into a buffer
  // the guest posted, so between two calls nothing is held. The restored
  // device watches its own input fd again (Activate).
  Result<void> SaveState(StateWriter& out) override {
    out.BeginRecord("cons", 1);
    return Ok();
  }
  Result<void> RestoreState(StateReader& in) override { return in.ExpectRecord("cons", 1); }

 private:
  void Finish(Queue& queue, DescriptorChain chain, uint32_t written) {
    auto pushed = queue.Push(*context_.memory, std::move(chain), written);
    (void)pushed;
    if (queue.NeedsInterrupt(*context_.memory)) {
      context_.interrupt->Trigger(Interrupt::Reason::kUsedBuffer);
    }
  }

  void Transmit() {
    DrainQueue(context_, kTransmitQueue, name(), [this](const DescriptorChain& chain) {
      std::vector<uint8_t> bytes(std::min(chain.readable_bytes(), kMaxChunk));
      ChainReader reader(*context_.memory, chain);
      bytes.resize(reader.ReadSome(bytes));
      WriteCapped(config_.output_fd, bytes, config_.max_output_bytes);
      return 0u;
    });
  }

  void ReceiveInput() {
    Queue& queue = context_.queues[kReceiveQueue];
    auto popped = queue.Pop(*context_.memory);
    if (!popped.ok() || !popped->has_value()) {
      // No buffer from the guest: stop polling input until it adds one.
      auto paused = context_.loop->Modify(config_.input_fd, 0);
      (void)paused;
      return;
    }
    DescriptorChain chain = std::move(**popped);
    std::vector<uint8_t> bytes(std::min(chain.writable_bytes(), kMaxChunk));
    ssize_t n = ::read(config_.input_fd, bytes.data(), bytes.size());
    uint32_t written = 0;
    if (n > 0) {
      ChainWriter writer(*context_.memory, chain);
      if (writer.Write(std::span<const uint8_t>(bytes.data(), static_cast<size_t>(n))).ok()) {
        written = static_cast<uint32_t>(n);
      }
    } else if (n == 0 || errno != EAGAIN) {
      Reset();  // EOF or error: no more input
    }
    Finish(queue, std::move(chain), written);
  }

  ConsoleConfig config_;
  DeviceContext context_;
  bool watching_input_ = false;
};

}  // namespace

std::unique_ptr<VirtioDevice> CreateConsoleDevice(const ConsoleConfig& config) {
  return std::make_unique<ConsoleDevice>(config);
}

}  // namespace vk::virtio
