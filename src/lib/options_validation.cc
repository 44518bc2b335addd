#include "lib/options_validation.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <set>
#include <tuple>

#include "base/names.h"
#include "lib/errors.h"
#include "lib/firewall_text.h"

namespace virtkit::internal {
namespace {

Error Usage(std::string message) { return Error(ErrorKind::kUsage, std::move(message)); }

std::string Mib(uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

Result<void> CheckSizes(const Options& options) {
  if (options.cpus > kMaxCpus) {
    return Usage("cpus " + std::to_string(options.cpus) + ": at most " + std::to_string(kMaxCpus));
  }
  if (options.memory_bytes < kMinMemoryBytes || options.memory_bytes > kMaxMemoryBytes) {
    return Usage("memory " + std::to_string(options.memory_bytes) + " bytes: give " +
                 Mib(kMinMemoryBytes) + " to " + Mib(kMaxMemoryBytes));
  }
  if (options.memory_bytes % (1ull << 20) != 0) {
    return Usage("memory " + std::to_string(options.memory_bytes) +
                 " bytes: give a whole number of MiB");
  }
  if (options.boot_timeout.count() <= 0) return Usage("boot_timeout must be positive");
  return Ok();
}

std::string PortText(const PortForward& port) {
  return port.host_address + ":" + std::to_string(port.host_port) +
         (port.protocol == Protocol::kUdp ? "/udp" : "/tcp");
}

Result<void> CheckPorts(const Options& options) {
  if (!options.ports.empty() && options.network.mode != NetworkMode::kLan) {
    return Usage("port forwards need the VM's own LAN (NetworkMode::kLan)");
  }
  // A wildcard address takes the port on every address, so it clashes with
  // any other forward of the same port and protocol.
  std::set<std::tuple<std::string, uint16_t, Protocol>> taken;
  for (const PortForward& port : options.ports) {
    in_addr address{};
    if (inet_pton(AF_INET, port.host_address.c_str(), &address) != 1) {
      return Usage("port forward " + PortText(port) + ": host address is not an IPv4 address");
    }
    if (port.host_port == 0 || port.guest_port == 0) {
      return Usage("port forward " + PortText(port) + ": ports must be 1-65535");
    }
    for (const auto& [other, number, protocol] : taken) {
      if (number == port.host_port && protocol == port.protocol &&
          (other == port.host_address || other == "0.0.0.0" || port.host_address == "0.0.0.0")) {
        return Usage("port forwards clash: " + PortText(port) + " is forwarded twice");
      }
    }
    taken.emplace(port.host_address, port.host_port, port.protocol);
  }
  return Ok();
}

bool ValidTag(std::string_view tag) {
  if (tag.empty() || tag.size() > kMaxTagBytes) return false;
  for (char c : tag) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      return false;
    }
  }
  return true;
}

bool AbsoluteGuestPath(std::string_view path) {
  if (path.size() < 2 || path[0] != '/') return false;  // "/" itself cannot be shadowed
  return path.find("/../") == std::string_view::npos && !path.ends_with("/..");
}

Result<void> CheckMounts(const Options& options) {
  std::set<std::string> tags, guest_paths;
  for (size_t i = 0; i < options.mounts.size(); ++i) {
    const Mount& mount = options.mounts[i];
    const std::string tag = mount.tag.empty() ? DefaultMountTag(i) : mount.tag;
    if (!ValidTag(tag)) {
      return Usage("mount tag \"" + tag + "\": use 1-36 letters, digits, '_', '-' or '.'");
    }
    if (!tags.insert(tag).second) return Usage("mount tag \"" + tag + "\" is used twice");
    if (!AbsoluteGuestPath(mount.guest_path)) {
      return Usage("mount " + tag + ": guest path \"" + mount.guest_path +
                   "\" must be absolute (and not /)");
    }
    if (!guest_paths.insert(mount.guest_path).second) {
      return Usage("mount " + tag + ": guest path " + mount.guest_path + " is mounted twice");
    }
    struct stat st {};
    if (mount.host_path.empty() || ::stat(mount.host_path.c_str(), &st) != 0 ||
        !S_ISDIR(st.st_mode)) {
      return Error(ErrorKind::kNotFound,
                   "mount " + tag + ": host directory \"" + mount.host_path + "\" not found");
    }
  }
  return Ok();
}

Result<void> CheckNetwork(const Network& network) {
  if (network.mode == NetworkMode::kSwitch && network.switch_socket.empty()) {
    return Usage("NetworkMode::kSwitch needs Network::switch_socket");
  }
  if (network.mode == NetworkMode::kNone &&
      (!network.firewall.empty() || !network.egress_allow.empty())) {
    return Usage("firewall rules and an egress allowlist need a network");
  }
  for (const std::string& entry : network.egress_allow) {
    if (entry.empty() || entry.find_first_of(", \t\n") != std::string::npos) {
      return Usage("egress allowlist entry \"" + entry + "\": one name or CIDR, no spaces/commas");
    }
  }
  if (network.mode == NetworkMode::kNone) return Ok();
  auto text = FirewallText(network);
  if (!text) return text.error();
  return Ok();
}

Result<void> CheckGuestSetup(std::string_view image, const Options& options) {
  if (image.empty() && options.rootfs_path.empty()) {
    return Usage("give an image or Options::rootfs_path");
  }
  if (!options.name.empty()) {
    if (auto checked = vk::CheckName(options.name, vk::NameKind::kVm); !checked.ok()) {
      return Usage(checked.error().message());
    }
  }
  if (!options.hostname.empty()) {
    if (auto checked = vk::CheckHostname(options.hostname); !checked.ok()) {
      return Usage(checked.error().message());
    }
  }
  for (const std::string& entry : options.env) {
    if (entry.find('=') == std::string::npos || entry.front() == '=') {
      return Usage("env entry \"" + entry + "\" is not K=V");
    }
  }
  if (!options.init.empty() && options.init.front().empty()) {
    return Usage("init: the program (init[0]) is empty");
  }
  if (!options.workdir.empty() && options.workdir.front() != '/') {
    return Usage("workdir \"" + options.workdir + "\" must be absolute");
  }
  if (!options.image_cache_dir.empty() && options.image_cache_dir[0] != '/') {
    return Usage("image_cache_dir must be an absolute path");
  }
  return Ok();
}

}  // namespace

std::string DefaultMountTag(size_t index) { return "share" + std::to_string(index); }

Result<void> ValidateOptions(std::string_view image, const Options& options) {
  for (auto* check : {&CheckSizes, &CheckPorts, &CheckMounts}) {
    if (auto result = check(options); !result) return result.error().Context("options");
  }
  if (auto result = CheckNetwork(options.network); !result) {
    return result.error().Context("options");
  }
  if (auto result = CheckGuestSetup(image, options); !result) {
    return result.error().Context("options");
  }
  return Ok();
}

}  // namespace virtkit::internal
