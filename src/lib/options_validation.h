// Run()'s options checked up front, before any preflight, pull or boot:
// everything here is the caller's mistake (ErrorKind::kUsage), except a
// host path that does not exist (kNotFound).
#pragma once

#include <string_view>

#include "virtkit/virtkit.h"

namespace virtkit::internal {

// Bounds of the VMM (src/vmm: vCPUs in the MP table, guest RAM).
inline constexpr unsigned kMaxCpus = 64;
inline constexpr uint64_t kMinMemoryBytes = 64ull << 20;
inline constexpr uint64_t kMaxMemoryBytes = 1ull << 40;
// virtio 1.2 §5.11.4: a virtio-fs tag is at most 36 bytes.
inline constexpr size_t kMaxTagBytes = 36;

Result<void> ValidateOptions(std::string_view image, const Options& options);

// The tag a mount without one gets ("share0", "share1", ...).
std::string DefaultMountTag(size_t index);

}  // namespace virtkit::internal
