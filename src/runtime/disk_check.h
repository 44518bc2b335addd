// Host-side sanity checks of a root disk before a VM is started, so a wrong
// path or a corrupt image is one clear error instead of a guest that fails to
// mount its root ~30 s later.
#pragma once

#include <string>

#include "base/result.h"

namespace vk {

// The file exists, is readable and holds an ext2/3/4 superblock.
Result<void> CheckExtDisk(const std::string& path);

}  // namespace vk
