// The one recursive delete. It removes `path` only when `path` lies inside
// `root` (the directory it is meant for: the VMs directory, a run
// directory's parent, the store's tmp/), walking by file descriptors so that
// no symlink is ever followed: a symlink anywhere in the tree, or swapped in
// while we work, is unlinked as a link, never entered.
#pragma once

#include <string>

#include "base/result.h"

namespace vk {

enum class RemoveOutcome { kRemoved, kAbsent };

// `path` must be `root` + "/" + a relative path without "", "." or ".."
// components; `root` itself is never removed. Intermediate components are
// opened with O_NOFOLLOW, so a symlinked component is refused.
Result<RemoveOutcome> RemoveTreeWithin(const std::string& root, const std::string& path);

}  // namespace vk
