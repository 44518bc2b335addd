// Intel MultiProcessor Specification 1.4 tables, which tell a kernel without
// ACPI how many CPUs there are and how interrupts are wired: a floating
// pointer structure (§4.1) and a configuration table (§4.2) with processor,
// bus, I/O APIC, I/O interrupt and local interrupt entries (§4.3).
#pragma once

#include <cstdint>
#include <vector>

#include "base/guest_memory.h"
#include "base/result.h"

namespace vk {

inline constexpr uint32_t kMaxVcpus = 64;
inline constexpr uint32_t kIoapicPins = 24;

// The bytes of the floating pointer + configuration table for `cpus` CPUs
// (APIC IDs 0..cpus-1, CPU 0 the bootstrap processor), placed at `address`.
Result<std::vector<uint8_t>> BuildMpTable(uint32_t cpus, uint64_t address);

// Builds and writes the table at the start of the EBDA.
Result<void> WriteMpTable(const GuestMemory& memory, uint32_t cpus);

}  // namespace vk
