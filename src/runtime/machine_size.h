// The one parser of a VM's size, for `vk run`, `vk launch` and the library:
// --cpus N|host and --mem SIZE, with the bounds every front end shares.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/result.h"

namespace vk {

// Bounds of a VM's shape. vCPUs: the VMM's MP table and vsock CID layout are
// sized for 64. Memory: below 64 MiB the guest kernel and agent do not come
// up; above 1 TiB a typo (4T for 4G) would reserve the host's address space.
inline constexpr unsigned kMaxVcpus = 64;
inline constexpr uint64_t kMinMemoryBytes = 64ull << 20;
inline constexpr uint64_t kMaxMemoryBytes = 1ull << 40;

// The host's CPU count, clamped to 1..kMaxVcpus (what `--cpus host` means).
unsigned HostCpus();

// "N" (1-64) or "host". ErrorKind::kUsage otherwise.
Result<unsigned> ParseCpus(std::string_view text);
// 0 means every host CPU (HostCpus()); 1-64 are themselves; more is kUsage.
Result<unsigned> ResolveCpus(unsigned cpus);

// "512M", "4G", "1073741824"; kMinMemoryBytes..kMaxMemoryBytes. kUsage.
Result<uint64_t> ParseMemory(std::string_view text);
Result<uint64_t> CheckMemory(uint64_t bytes);

}  // namespace vk
