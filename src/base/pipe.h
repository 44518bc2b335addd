// A pipe whose two ends are owned, so no error path leaks one and a child
// sees EOF once the parent drops its copy of the write end.
#pragma once

#include <fcntl.h>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vk {

struct Pipe {
  UniqueFd read, write;
};

// pipe2() with `flags` (close-on-exec unless the caller asks otherwise).
Result<Pipe> MakePipe(int flags = O_CLOEXEC);

}  // namespace vk
