#include "lib/run_spec_json.h"

#include <nlohmann/json.hpp>
#include <random>

#include "lib/firewall_text.h"

namespace virtkit::internal {
namespace {

std::string_view ModeText(NetworkMode mode) {
  switch (mode) {
    case NetworkMode::kLan: return "lan";
    case NetworkMode::kSwitch: return "switch";
    case NetworkMode::kNone: return "none";
  }
  return "lan";
}

nlohmann::json NetworkJson(const Network& network, const std::vector<PortForward>& ports) {
  nlohmann::json json = {{"mode", ModeText(network.mode)}};
  if (network.mode == NetworkMode::kNone) return json;
  if (network.mode == NetworkMode::kSwitch) json["switch_socket"] = network.switch_socket;
  nlohmann::json publish = nlohmann::json::array();
  for (const PortForward& port : ports) publish.push_back(PublishText(port));
  json["publish"] = publish;
  std::string allow;
  for (const std::string& entry : network.egress_allow) allow += (allow.empty() ? "" : ",") + entry;
  json["egress_allow"] = allow;
  return json;
}

}  // namespace

Result<std::string> EncodeRunSpec(std::string_view image, const Options& options,
                                  const std::string& name, const std::string& layer_dir) {
  nlohmann::json spec = {
      {"version", kRunSpecVersion},
      {"name", name},
      {"cpus", options.cpus},
      {"memory_bytes", options.memory_bytes},
      {"env", options.env},
      {"user", options.user},
      {"workdir", options.workdir},
      {"hostname", options.hostname.empty() ? name : options.hostname},
      {"cold", options.cold_boot},
      {"boot_timeout_seconds", options.boot_timeout.count()},
  };
  if (options.rootfs_path.empty()) {
    spec["image"] = std::string(image);
  } else {
    spec["rootfs_path"] = options.rootfs_path;
  }
  if (!layer_dir.empty()) spec["layer_dir"] = layer_dir;
  if (!options.init.empty()) spec["command"] = options.init;
  nlohmann::json shares = nlohmann::json::array();
  for (const Mount& mount : options.mounts) {
    shares.push_back(
        {{"host", mount.host_path}, {"guest", mount.guest_path}, {"read_only", mount.read_only}});
  }
  spec["shares"] = shares;
  nlohmann::json network = NetworkJson(options.network, options.ports);
  if (options.network.mode != NetworkMode::kNone &&
      (!options.network.firewall.empty() ||
       options.network.egress_default != FirewallAction::kAllow ||
       options.network.ingress_default != FirewallAction::kDeny)) {
    auto text = FirewallText(options.network);
    if (!text) return text.error();
    network["firewall"] = *text;
  }
  spec["network"] = network;
  try {
    return spec.dump();
  } catch (const nlohmann::json::exception& e) {  // invalid UTF-8 in a string
    return Error(ErrorKind::kUsage, std::string("options: ") + e.what());
  }
}

std::string GenerateName() {
  std::random_device random;
  char name[16];
  std::snprintf(name, sizeof(name), "vm-%06x", random() & 0xffffff);
  return name;
}

}  // namespace virtkit::internal
