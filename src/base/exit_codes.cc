#include "base/exit_codes.h"

namespace vk {

int ExitCodeFor(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kNoKvm: return kExitNoKvm;
    case ErrorKind::kGuestPanic: return kExitGuestPanic;
    case ErrorKind::kTimeout: return kExitTimeout;
    case ErrorKind::kDisk: return kExitDiskError;
    case ErrorKind::kNoExitStatus: return kExitGuestNoStatus;
    default: return kExitUsage;
  }
}

}  // namespace vk
