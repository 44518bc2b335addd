// VIRTKIT_STATS=1: where the host-side time of a launch goes (bench/boot.sh,
// bench/start.sh read these lines from stderr).
#pragma once

#include <chrono>
#include <cstdio>

#include "base/process_clock.h"
#include "vmm/machine.h"

namespace vk {

// When each set-up step of a launch finished, for VIRTKIT_STATS: tells which
// step the host-side time before the first guest instruction goes to.
struct SetupTimeline {
  using Clock = std::chrono::steady_clock;
  Clock::time_point launch = Clock::now();  // image resolved, launch begins
  Clock::time_point vmm_created;            // KVM VM, memory, event loop
  Clock::time_point scratch_ready;          // scratch disk written (or none)
  Clock::time_point devices_added;

  static double MsSinceStart(Clock::time_point at) {
    return std::chrono::duration<double, std::milli>(at - ProcessStart()).count();
  }
  void Print(const MachineStats& machine) const {
    std::fprintf(stderr,
                 "vk-stats: launch_ms=%.3f vmm_created_ms=%.3f scratch_ready_ms=%.3f "
                 "devices_added_ms=%.3f guest_loaded_ms=%.3f vcpus_ready_ms=%.3f\n",
                 MsSinceStart(launch), MsSinceStart(vmm_created), MsSinceStart(scratch_ready),
                 MsSinceStart(devices_added), MsSinceStart(machine.guest_loaded),
                 MsSinceStart(machine.vcpus_ready));
  }
};

// One line of host-side figures: time to the first guest instruction, exits,
// RSS and the VMM's overhead over guest memory.
void PrintStats(const Machine& machine);

}  // namespace vk
