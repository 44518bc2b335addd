#include "virtio/rng/rng_device.h"

#include <sys/random.h>

#include <vector>

#include "base/log.h"
#include "virtio/queue_drain.h"

namespace vk::virtio {
namespace {

// Abuse bound: bytes of entropy per request, whatever buffer size the guest offers.
constexpr size_t kMaxBytesPerRequest = 64 * 1024;

class RngDevice : public VirtioDevice {
 public:
  DeviceType type() const override { return DeviceType::kRng; }
  std::string_view name() const override { return "virtio-rng"; }
  uint64_t features() const override { return 0; }
  std::vector<uint16_t> queue_max_sizes() const override { return {64}; }
  void ReadConfig(uint64_t, std::span<uint8_t> data) override {
    std::fill(data.begin(), data.end(), 0);
  }
  Result<void> Activate(const DeviceContext& context) override {
    context_ = context;
    return Ok();
  }
  void Reset() override {}

  void ProcessQueue(size_t) override {
    DrainQueue(context_, 0, name(), [this](const DescriptorChain& chain) { return Fill(chain); });
  }

  // Stateless beyond its queue: requests are served synchronously.
  Result<void> SaveState(StateWriter& out) override {
    out.BeginRecord("rng", 1);
    return Ok();
  }
  Result<void> RestoreState(StateReader& in) override { return in.ExpectRecord("rng", 1); }

 private:
  uint32_t Fill(const DescriptorChain& chain) {
    size_t size = std::min<uint64_t>(chain.writable_bytes(), kMaxBytesPerRequest);
    std::vector<uint8_t> bytes(size);
    ssize_t got = ::getrandom(bytes.data(), bytes.size(), 0);
    if (got <= 0) return 0;
    bytes.resize(static_cast<size_t>(got));
    ChainWriter writer(*context_.memory, chain);
    return writer.Write(bytes).ok() ? static_cast<uint32_t>(bytes.size()) : 0;
  }

  DeviceContext context_;
};

}  // namespace

std::unique_ptr<VirtioDevice> CreateRngDevice() { return std::make_unique<RngDevice>(); }

}  // namespace vk::virtio
