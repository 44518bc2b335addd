#include "vmm/guest_assets.h"

// Weak: resolve to null when the embedding object is not linked in.
extern "C" {
extern const uint8_t vk_embedded_kernel_start[] __attribute__((weak));
extern const uint8_t vk_embedded_kernel_end[] __attribute__((weak));
extern const uint8_t vk_embedded_agent_start[] __attribute__((weak));
extern const uint8_t vk_embedded_agent_end[] __attribute__((weak));
}

namespace vk {
namespace {

std::span<const uint8_t> Between(const uint8_t* start, const uint8_t* end) {
  if (start == nullptr || end == nullptr || end <= start) return {};
  return {start, static_cast<size_t>(end - start)};
}

}  // namespace

std::span<const uint8_t> EmbeddedKernel() {
  return Between(vk_embedded_kernel_start, vk_embedded_kernel_end);
}

std::span<const uint8_t> EmbeddedAgent() {
  return Between(vk_embedded_agent_start, vk_embedded_agent_end);
}

}  // namespace vk
