#include "runtime/checkpoint_spec.h"

#include <filesystem>
#include <nlohmann/json.hpp>

namespace vk {
namespace {

using nlohmann::json;

const char* ModeName(NetworkOptions::Mode mode) {
  switch (mode) {
    case NetworkOptions::Mode::kNone: return "none";
    case NetworkOptions::Mode::kInProcess: return "in-process";
    case NetworkOptions::Mode::kSwitch: return "switch";
  }
  return "none";
}

Result<NetworkOptions::Mode> ModeFromName(const std::string& name) {
  if (name == "none") return NetworkOptions::Mode::kNone;
  if (name == "in-process") return NetworkOptions::Mode::kInProcess;
  if (name == "switch") return NetworkOptions::Mode::kSwitch;
  return Error("unknown network mode \"" + name + "\"");
}

// "" stays "" (an absent path); anything else is made absolute against the
// VMM's working directory, which is the launching command's.
Result<std::string> Absolute(const std::string& path) {
  if (path.empty()) return path;
  std::error_code error;
  std::filesystem::path absolute = std::filesystem::absolute(path, error);
  if (error) return Error("cannot resolve " + path + ": " + error.message());
  return absolute.lexically_normal().string();
}

Result<void> CheckCheckpointable(const LaunchOptions& options) {
  if (options.name.empty()) return Error("only a named VM can be checkpointed");
  if (!options.command.empty() && !options.detach) {
    return Error(
        "its command runs attached to a terminal (vk run/launch without -d), which a restore "
        "cannot give back: start the VM with -d (its output then goes to `vk logs`) to "
        "checkpoint it");
  }
  if (!options.shares.empty() || !options.root_dir.empty()) {
    return Error(
        "it has shared host directories (-v, --workdir), whose open files a checkpoint cannot "
        "save: start the VM without shares to checkpoint it");
  }
  if (options.root_device || !options.extra_disks.empty() || !options.vsock_ports.empty() ||
      options.network.switch_fd >= 0 || options.network.mac || !options.serial_ports.empty() ||
      !options.consoles.empty()) {
    return Error(
        "it has disks, vsock ports, consoles or a network socket of a libkrun client, which a "
        "checkpoint does not record");
  }
  if (!options.kernel_path.empty() || !options.initrd_path.empty()) {
    return Error("it boots --kernel/--initrd; checkpoints need the built-in guest");
  }
  return Ok();
}

json NetworkJson(const NetworkOptions& net) {
  return {{"mode", ModeName(net.mode)},
          {"switch_socket", net.switch_socket},
          {"publish", net.publish},
          {"egress_allow", net.egress_allow},
          {"firewall_file", net.firewall_file}};
}

Result<NetworkOptions> NetworkFromJson(const json& j) {
  NetworkOptions net;
  net.mode = VK_TRY(ModeFromName(j.at("mode").get<std::string>()));
  net.switch_socket = j.at("switch_socket").get<std::string>();
  net.publish = j.at("publish").get<std::vector<std::string>>();
  net.egress_allow = j.at("egress_allow").get<std::string>();
  net.firewall_file = j.at("firewall_file").get<std::string>();
  return net;
}

json CommandJson(const std::optional<proto::AttachRequest>& command) {
  if (!command) return nullptr;
  return {{"pid", command->pid},
          {"stdout_bytes", command->stdout_bytes},
          {"stderr_bytes", command->stderr_bytes}};
}

// nlohmann converts -1 to a u64 silently: the type is checked first.
Result<uint64_t> UnsignedField(const json& j, const char* key) {
  const json& value = j.at(key);
  if (!value.is_number_unsigned()) return Error(std::string(key) + " is not a count");
  return value.get<uint64_t>();
}

Result<std::optional<proto::AttachRequest>> CommandFromJson(const json& j) {
  if (j.is_null()) return std::optional<proto::AttachRequest>();
  const uint64_t pid = VK_TRY(UnsignedField(j, "pid"));
  if (pid == 0 || pid > UINT32_MAX) return Error("the command's pid is out of range");
  proto::AttachRequest command;
  command.pid = static_cast<uint32_t>(pid);
  command.stdout_bytes = VK_TRY(UnsignedField(j, "stdout_bytes"));
  command.stderr_bytes = VK_TRY(UnsignedField(j, "stderr_bytes"));
  return std::optional<proto::AttachRequest>(command);
}

Result<CheckpointSpec> SpecFromJson(const json& j) {
  CheckpointSpec spec;
  spec.name = j.at("name").get<std::string>();
  spec.display_name = j.at("display_name").get<std::string>();
  spec.hostname = j.at("hostname").get<std::string>();
  spec.guest = j.at("guest").get<std::string>();
  spec.cpus = j.at("cpus").get<uint32_t>();
  spec.memory_bytes = j.at("memory_bytes").get<uint64_t>();
  spec.disk = j.at("disk").get<std::string>();
  spec.read_only = j.at("read_only").get<bool>();
  spec.scratch = j.at("scratch").get<std::string>();
  spec.console_path = j.at("console").get<std::string>();
  spec.network = VK_TRY(NetworkFromJson(j.at("network")));
  spec.command = VK_TRY(CommandFromJson(j.at("command")));
  if (spec.name.empty() || spec.disk.empty()) return Error("a VM name and a disk are required");
  for (const std::string* path : {&spec.disk, &spec.scratch}) {
    if (!path->empty() && (*path)[0] != '/') return Error("disk path " + *path + " is relative");
  }
  return spec;
}

}  // namespace

std::vector<WritableDisk> WritableDisks(const CheckpointSpec& spec) {
  if (!spec.scratch.empty()) return {{spec.scratch, "vdb.img"}};
  if (!spec.read_only) return {{spec.disk, "vda.img"}};
  return {};
}

Result<CheckpointSpec> SpecForLaunch(const LaunchOptions& options, uint32_t cpus,
                                     const std::string& scratch, const std::string& guest) {
  VK_TRY_CTX(CheckCheckpointable(options), "cannot checkpoint " + options.name);
  CheckpointSpec spec;
  spec.name = options.name;
  spec.display_name = options.display_name.empty() ? options.disk : options.display_name;
  spec.hostname = options.hostname.empty() ? options.name : options.hostname;
  spec.guest = guest;
  spec.cpus = cpus;
  spec.memory_bytes = options.memory_bytes;
  spec.disk = VK_TRY(Absolute(options.disk));
  spec.read_only = options.read_only;
  spec.scratch = VK_TRY(Absolute(scratch));
  spec.console_path = VK_TRY(Absolute(options.console_path));
  spec.network = options.network;
  spec.network.switch_socket = VK_TRY(Absolute(options.network.switch_socket));
  spec.network.firewall_file = VK_TRY(Absolute(options.network.firewall_file));
  return spec;
}

LaunchOptions LaunchOptionsFor(const CheckpointSpec& spec) {
  LaunchOptions options;
  options.name = spec.name;
  options.display_name = spec.display_name;
  options.hostname = spec.hostname;
  options.cpus = spec.cpus;
  options.memory_bytes = spec.memory_bytes;
  options.disk = spec.disk;
  options.read_only = spec.read_only;
  options.console_path = spec.console_path;
  options.network = spec.network;
  options.attach_command = spec.command;
  if (!spec.scratch.empty()) {
    std::string scratch = spec.scratch;  // put back by the restore
    options.make_scratch_disk = [scratch](const VmDir&) -> Result<std::string> { return scratch; };
  }
  return options;
}

std::string EncodeCheckpointSpec(const CheckpointSpec& spec) {
  json j = {{"version", kCheckpointSpecVersion},
            {"name", spec.name},
            {"display_name", spec.display_name},
            {"hostname", spec.hostname},
            {"guest", spec.guest},
            {"cpus", spec.cpus},
            {"memory_bytes", spec.memory_bytes},
            {"disk", spec.disk},
            {"read_only", spec.read_only},
            {"scratch", spec.scratch},
            {"console", spec.console_path},
            {"network", NetworkJson(spec.network)},
            {"command", CommandJson(spec.command)}};
  return j.dump(2) + "\n";
}

Result<CheckpointSpec> DecodeCheckpointSpec(std::string_view text) {
  try {
    json j = json::parse(text);
    if (!j.is_object()) return Error("the checkpoint spec is not a JSON object");
    const json& version = j.at("version");
    if (!version.is_number_unsigned() || version.get<uint64_t>() != kCheckpointSpecVersion) {
      return Error("the checkpoint spec has version " + version.dump() +
                   "; this vk reads version " + std::to_string(kCheckpointSpecVersion) +
                   ": restore it with the vk that made it");
    }
    return SpecFromJson(j).Context("checkpoint spec");
  } catch (const json::exception& e) {
    return Error(std::string("the checkpoint spec is corrupt: ") + e.what());
  }
}

}  // namespace vk
