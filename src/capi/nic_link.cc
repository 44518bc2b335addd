#include "capi/nic_link.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "libkrun.h"
#include "net/datagram_port.h"

namespace vk::capi {
namespace {

constexpr uint8_t kVfkitGreeting[] = {'V', 'F', 'K', 'T'};

std::string LocalDatagramName() {
  static std::atomic<unsigned> counter{0};
  const char* tmp = std::getenv("TMPDIR");
  return std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/krun-net-" +
         std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".sock";
}

Result<UniqueFd> ConnectDatagram(const std::string& path, bool vfkit) {
  std::span<const uint8_t> greeting;
  if (vfkit) greeting = kVfkitGreeting;
  return net::ConnectUnixDatagram(path, LocalDatagramName(), greeting);
}

}  // namespace

Result<UniqueFd> OpenNicLink(const KrunConfig& config) {
  if (!config.nets.empty()) {
    const NetConfig& nic = config.nets[0];
    if (nic.fd || nic.kind == NetKind::kUnixStream) return UniqueFd();
    if (nic.kind == NetKind::kTap) return net::OpenTap(nic.path).Context("krun_add_net_tap");
    return ConnectDatagram(nic.path, (nic.flags & NET_FLAG_VFKIT) != 0)
        .Context("krun_add_net_unixgram");
  }
  if (config.legacy_net && config.legacy_net->kind == NetKind::kUnixGram)
    return ConnectDatagram(config.legacy_net->path, true).Context("krun_set_gvproxy_path");
  return UniqueFd();
}

}  // namespace vk::capi
