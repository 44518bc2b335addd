#include "lib/preflight.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace virtkit {
namespace {

Error Failed(std::string message) { return Error(ErrorKind::kPreflight, std::move(message)); }

std::string Mib(uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

// The path itself or its nearest existing parent (the data dir may not exist yet).
std::string ExistingAncestor(std::string path) {
  std::error_code error;
  std::filesystem::path p(path);
  while (!p.empty() && !std::filesystem::exists(p, error)) {
    if (p == p.parent_path()) break;
    p = p.parent_path();
  }
  return p.empty() ? "." : p.string();
}

std::optional<uint64_t> MemAvailableBytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    if (!line.starts_with("MemAvailable:")) continue;
    std::istringstream fields(line.substr(13));
    uint64_t kib = 0;
    if (fields >> kib) return kib * 1024;
  }
  return std::nullopt;
}

Result<void> BindOnce(const PortForward& port) {
  const bool udp = port.protocol == Protocol::kUdp;
  const std::string what = "host port " + port.host_address + ":" + std::to_string(port.host_port) +
                           (udp ? "/udp" : "/tcp");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port.host_port);
  if (inet_pton(AF_INET, port.host_address.c_str(), &address.sin_addr) != 1) {
    return Error(ErrorKind::kUsage, what + ": not an IPv4 address");
  }
  int fd = ::socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  if (fd < 0) return Failed(what + ": socket: " + std::strerror(errno));
  // As the VMM's listener does: a port held only by TIME_WAIT is free.
  int one = 1;
  if (!udp) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  int err = errno;
  ::close(fd);
  if (rc == 0) return Ok();
  if (err == EADDRINUSE) return Failed(what + " is in use");
  return Failed(what + " cannot be bound: " + std::strerror(err));
}

}  // namespace

namespace preflight {

PreflightCheck KvmAccess() {
  return {"kvm", []() -> Result<void> {
            int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
            if (fd >= 0) {
              ::close(fd);
              return Ok();
            }
            int err = errno;
            std::string hint = err == EACCES   ? " (add yourself to the kvm group)"
                               : err == ENOENT ? " (load kvm_intel/kvm_amd, or enable nested "
                                                 "virtualisation)"
                                               : "";
            return Error(ErrorKind::kPreflight,
                         "cannot open /dev/kvm: " + std::string(std::strerror(err)) + hint);
          }};
}

PreflightCheck FreeDisk(std::string path, uint64_t min_bytes) {
  return {"disk", [path, min_bytes]() -> Result<void> {
            const std::string at = ExistingAncestor(path);
            struct statvfs fs {};
            if (::statvfs(at.c_str(), &fs) != 0) {
              return Failed("statvfs " + at + ": " + std::strerror(errno));
            }
            const uint64_t free = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
            if (free >= min_bytes) return Ok();
            return Failed(Mib(free) + " free at " + at + ", need " + Mib(min_bytes));
          }};
}

PreflightCheck FreeMemory(uint64_t min_bytes) {
  return {"memory", [min_bytes]() -> Result<void> {
            auto available = MemAvailableBytes();
            if (!available) return Failed("no MemAvailable in /proc/meminfo");
            if (*available >= min_bytes) return Ok();
            return Failed(Mib(*available) + " available, the VM may use " + Mib(min_bytes) +
                          " (give it less memory)");
          }};
}

PreflightCheck Cpus(unsigned min_cpus) {
  return {"cpus", [min_cpus]() -> Result<void> {
            long online = ::sysconf(_SC_NPROCESSORS_ONLN);
            if (online >= static_cast<long>(min_cpus)) return Ok();
            return Failed("the host has " + std::to_string(online) + ", the VM asks for " +
                          std::to_string(min_cpus));
          }};
}

PreflightCheck PortsFree(std::vector<PortForward> ports) {
  return {"ports", [ports]() -> Result<void> {
            std::string busy;
            for (const PortForward& port : ports) {
              if (auto bound = BindOnce(port); !bound) {
                busy += (busy.empty() ? "" : "; ") + bound.error().message();
              }
            }
            if (busy.empty()) return Ok();
            return Failed(busy);
          }};
}

}  // namespace preflight

namespace internal {

std::vector<PreflightCheck> ChecksFor(const Options& options, const std::string& data_dir) {
  std::vector<PreflightCheck> checks;
  if (options.builtin_preflight) {
    checks.push_back(preflight::PortsFree(options.ports));
    checks.push_back(preflight::KvmAccess());
    checks.push_back(preflight::Cpus(options.cpus == 0 ? 1 : options.cpus));
    checks.push_back(preflight::FreeMemory(options.memory_bytes));
    checks.push_back(preflight::FreeDisk(data_dir, kMinFreeDiskBytes));
  }
  checks.insert(checks.end(), options.preflight.begin(), options.preflight.end());
  return checks;
}

Result<void> RunPreflight(const std::vector<PreflightCheck>& checks,
                          const std::function<void(std::string_view)>& on_warning) {
  std::string failures;
  for (const PreflightCheck& check : checks) {
    if (!check.check) continue;
    Result<void> result = check.check();
    if (result) continue;
    std::string line = check.name.empty() ? result.error().message()
                                          : check.name + ": " + result.error().message();
    if (!check.required) {
      if (on_warning) on_warning("preflight (advisory) " + line);
      continue;
    }
    failures += (failures.empty() ? "" : "; ") + line;
  }
  if (failures.empty()) return Ok();
  return Error(ErrorKind::kPreflight, "preflight: " + failures);
}

}  // namespace internal
}  // namespace virtkit
