// Sparse file copies: only a file's data regions are copied (SEEK_DATA /
// SEEK_HOLE), holes stay holes. Scratch disks from their template and a
// checkpoint's copies of a VM's writable disks use it: a 64 GiB scratch
// disk holding 50 MB costs 50 MB to copy, not 64 GiB.
#pragma once

#include <string>

#include "base/result.h"

namespace vk {

// Copies `source` into a new file `output` (must not exist) of the same
// size, mode 0600 (a VM's disk is user data). On failure `output` is removed.
Result<void> CopySparseFile(const std::string& source, const std::string& output);

}  // namespace vk
