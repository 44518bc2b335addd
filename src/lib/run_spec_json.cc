#include "lib/run_spec_json.h"

#include "lib/firewall_text.h"
#include "runtime/detach.h"
#include "runtime/run_spec.h"

namespace virtkit::internal {
namespace {

vk::NetworkOptions::Mode ModeOf(NetworkMode mode) {
  switch (mode) {
    case NetworkMode::kLan: return vk::NetworkOptions::Mode::kInProcess;
    case NetworkMode::kSwitch: return vk::NetworkOptions::Mode::kSwitch;
    case NetworkMode::kNone: return vk::NetworkOptions::Mode::kNone;
  }
  return vk::NetworkOptions::Mode::kInProcess;
}

bool HasFirewall(const Network& network) {
  return !network.firewall.empty() || network.egress_default != FirewallAction::kAllow ||
         network.ingress_default != FirewallAction::kDeny;
}

Result<void> SetNetwork(const Options& options, vk::RunSpec& spec) {
  const Network& network = options.network;
  spec.network.mode = ModeOf(network.mode);
  if (network.mode == NetworkMode::kNone) return Ok();
  spec.network.switch_socket = network.switch_socket;
  for (const PortForward& port : options.ports) spec.network.publish.push_back(PublishText(port));
  for (const std::string& entry : network.egress_allow) {
    spec.network.egress_allow += (spec.network.egress_allow.empty() ? "" : ",") + entry;
  }
  if (HasFirewall(network)) {
    auto text = FirewallText(network);
    if (!text) return text.error();
    spec.firewall_rules = *text;
  }
  return Ok();
}

// RunSpec's pair is docker's: `entrypoint` (one word; resets the image's Cmd)
// and `command` (the image's Cmd or the arguments after entrypoint).
Result<void> SetArgv(const Options& options, vk::RunSpec& spec) {
  std::vector<std::string> argv;
  if (!options.init.empty()) {
    argv = options.init;
  } else if (options.entrypoint) {
    argv = *options.entrypoint;
    argv.insert(argv.end(), options.command.begin(), options.command.end());
    if (argv.empty()) return Error(ErrorKind::kUsage, "an empty entrypoint needs a command");
  } else {
    spec.command = options.command;  // after the image's Entrypoint
    return Ok();
  }
  spec.entrypoint = argv.front();
  spec.command.assign(argv.begin() + 1, argv.end());
  return Ok();
}

}  // namespace

// The runtime's own RunSpec and codec (src/runtime/run_spec.h): the library
// fills the struct, so the wire format has one writer and one reader.
Result<std::string> EncodeRunSpec(std::string_view image, const Options& options,
                                  const std::string& name, const Rootfs* staged) {
  vk::RunSpec spec;
  spec.name = name;
  if (options.rootfs_path.empty()) {
    spec.image = std::string(image);
  } else {
    spec.rootfs_path = options.rootfs_path;
  }
  if (staged != nullptr) {
    spec.layer_dir = staged->staging_directory();
    for (const auto& [path, owner] : staged->owners()) {
      spec.layer_owners.push_back({path, owner.uid, owner.gid});
    }
  }
  spec.image_store = options.image_cache_dir;
  spec.cpus = options.cpus;
  spec.memory_bytes = options.memory_bytes;
  if (auto argv = SetArgv(options, spec); !argv) return argv.error();
  spec.env = options.env;
  spec.user = options.user;
  spec.workdir = options.workdir;
  spec.hostname = options.hostname.empty() ? name : options.hostname;
  for (const Mount& mount : options.mounts) {
    spec.shares.push_back({mount.host_path, mount.guest_path, mount.read_only});
  }
  if (auto network = SetNetwork(options, spec); !network) return network.error();
  spec.cold = options.cold_boot;
  spec.boot_timeout = options.boot_timeout;
  spec.detach = true;  // `vk supervise` forces it anyway: the VM outlives the call
  spec.remove_on_exit = false;
  return vk::EncodeRunSpec(spec);
}

std::string GenerateName() { return vk::GeneratedVmName(); }

}  // namespace virtkit::internal
