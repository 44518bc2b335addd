// Output a guest controls (its consoles) goes to a host file of bounded
// size: a guest printing in a loop must not fill the host's disk.
//
// The bound is kept per open file, not per writer: the serial port and
// virtio-console share one console.log fd, so the file's size (fstat) is
// the count. Once a write would pass the limit, the part that fits is
// written, then one line "[console output truncated at N bytes]", and
// everything after is dropped (truncation rather than a ring of two files:
// the start of a console log, the boot, is what explains a failure, and
// callers hold only an fd, not a path to rotate). If the file shrinks (a
// user truncates it), writing resumes. Pipes and terminals are not capped:
// their reader consumes the bytes.
#pragma once

#include <cstdint>
#include <span>

namespace vk {

// Default limit of a VM's console log.
inline constexpr uint64_t kDefaultConsoleLogLimit = 16ull << 20;

// Writes `bytes` to `fd` under the limit above (thread-safe: writers of one
// file cannot both cross the limit). Errors are ignored, as for any log.
void WriteCapped(int fd, std::span<const uint8_t> bytes, uint64_t limit);

}  // namespace vk
