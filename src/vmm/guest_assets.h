// The guest kernel and vk-agent embedded in the vk binary at build time
// (src/cli/embedded_guest.S.in). Empty when the build did not embed them
// (sanitizer builds): callers then need --kernel and a separate agent.
#pragma once

#include <cstdint>
#include <span>

namespace vk {

std::span<const uint8_t> EmbeddedKernel();
std::span<const uint8_t> EmbeddedAgent();

}  // namespace vk
