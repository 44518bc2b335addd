// A host directory as a VM's read-only base (`vk run --rootfs DIR`, the
// library's Options::rootfs_path): built into an ext4 base like an image's
// and cached in the store by the directory's content, so a second run of an
// unchanged tree boots the same base without rebuilding it.
#pragma once

#include <string>

#include "base/progress.h"
#include "base/result.h"
#include "image/store.h"

namespace vk::image {

// The base's path; built on first use (one process builds, others wait).
Result<std::string> EnsureDirectoryBase(Store& store, const std::string& dir,
                                        Progress::Style progress = Progress::Style::kAuto);

}  // namespace vk::image
