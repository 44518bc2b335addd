#include "runtime/launch_stats.h"

#include <cstdio>
#include <fstream>
#include <string>

namespace vk {

// One line of host-side figures for bench/boot.sh (VIRTKIT_STATS=1).
void PrintStats(const Machine& machine) {
  MachineStats stats = machine.stats();
  long rss_kib = 0;
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) rss_kib = std::stol(line.substr(6));
  }
  double seconds = std::chrono::duration<double>(stats.run_time).count();
  std::fprintf(stderr,
               "vk-stats: main_to_first_run_ms=%.3f first_run_monotonic_ns=%lld "
               "create_to_first_run_ms=%.3f exits=%lu "
               "exits_per_s=%.0f rss_kib=%ld guest_resident_kib=%lu vmm_overhead_kib=%ld\n",
               std::chrono::duration<double, std::milli>(stats.first_run - ProcessStart()).count(),
               // CLOCK_MONOTONIC is one clock for every process: a launcher
               // (bench/library_bench) subtracts its own start from it.
               static_cast<long long>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          stats.first_run.time_since_epoch())
                                          .count()),
               std::chrono::duration<double, std::milli>(stats.create_to_first_run).count(),
               static_cast<unsigned long>(stats.exits), seconds > 0 ? stats.exits / seconds : 0.0,
               rss_kib, static_cast<unsigned long>(stats.guest_resident_bytes / 1024),
               rss_kib - static_cast<long>(stats.guest_resident_bytes / 1024));
}

}  // namespace vk
