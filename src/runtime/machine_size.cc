#include "runtime/machine_size.h"

#include <algorithm>
#include <string>
#include <thread>

#include "base/strings.h"

namespace vk {

unsigned HostCpus() { return std::clamp(std::thread::hardware_concurrency(), 1u, kMaxVcpus); }

Result<unsigned> ResolveCpus(unsigned cpus) {
  if (cpus == 0) return HostCpus();
  if (cpus > kMaxVcpus) {
    return Error(ErrorKind::kUsage, "--cpus must be 1-" + std::to_string(kMaxVcpus) +
                                        " or host (got " + std::to_string(cpus) + ")");
  }
  return cpus;
}

Result<unsigned> ParseCpus(std::string_view text) {
  if (text == "host") return HostCpus();
  auto n = ParseUint(text);
  if (!n || *n < 1 || *n > kMaxVcpus) {
    return Error(ErrorKind::kUsage, "--cpus must be 1-" + std::to_string(kMaxVcpus) +
                                        " or host (got " + std::string(text) + ")");
  }
  return static_cast<unsigned>(*n);
}

Result<uint64_t> CheckMemory(uint64_t bytes) {
  if (bytes < kMinMemoryBytes || bytes > kMaxMemoryBytes) {
    return Error(ErrorKind::kUsage,
                 "--mem must be between 64M and 1T (got " + std::to_string(bytes) + " bytes)");
  }
  return bytes;
}

Result<uint64_t> ParseMemory(std::string_view text) {
  auto bytes = ParseSize(text);
  if (!bytes.ok()) return Error(ErrorKind::kUsage, "--mem: " + bytes.error().message());
  return CheckMemory(*bytes);
}

}  // namespace vk
