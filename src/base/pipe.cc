#include "base/pipe.h"

#include <unistd.h>

namespace vk {

Result<Pipe> MakePipe(int flags) {
  int fds[2];
  if (::pipe2(fds, flags) != 0) return Error::FromErrno("create a pipe");
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace vk
