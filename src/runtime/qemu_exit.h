// How a guest run under QEMU ended, as our MachineExit: one pure mapping from
// what the supervisor observed (QEMU's wait status, QMP events and status,
// our own timeout) so `vk run --vmm qemu` reports the same exits as vk's own
// VMM. QEMU is started with -no-reboot and
// -device isa-debug-exit,iobase=0xf4,iosize=0x04.
#pragma once

#include <optional>
#include <string>

#include "vmm/machine.h"

namespace vk {

struct QemuOutcome {
  std::optional<int> wait_status;  // from waitpid; none: QEMU still runs (we kill it after)
  bool internal_error = false;     // QMP: STOP and query-status "internal-error"
  bool timed_out = false;          // our --timeout fired (we kill QEMU)
  std::optional<std::string> shutdown_reason;  // the QMP SHUTDOWN event's reason, if seen
  bool started = false;  // QMP connected / "running" seen: QEMU got past start-up
};

MachineExit QemuExit(const QemuOutcome& outcome);

}  // namespace vk
