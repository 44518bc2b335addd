#include "capi/launch_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>

#include "base/names.h"
#include "capi/krun_config_file.h"
#include "libkrun.h"

namespace vk::capi {
namespace {

static_assert(kMaxConsolePorts == virtio::kMaxConsolePorts);
static_assert(kMaxConsolePortNameBytes == virtio::kMaxConsolePortNameBytes);
static_assert(kMaxSerialConsoles == kMaxSerialPorts);

constexpr char kConfigFile[] = "/.krun_config.json";
constexpr char kDefaultShell[] = "/bin/sh";
// libkrun's guest: HOSTNAME names the machine, "localhost" without it.
constexpr char kDefaultHostname[] = "localhost";

Error Unsupported(const std::string& what) {
  return Error(what + " is not supported by virtkit's libkrun (docs/libkrun.md lists what is)",
               ENOTSUP);
}

Result<void> CheckSupported(const KrunConfig& config) {
  if (config.kernel && config.kernel->format == KernelFormat::kRaw)
    return Unsupported(
        "a RAW kernel (a libkrunfw bundle; krun_set_kernel: give an ELF vmlinux, plain or "
        "compressed)");
  if (config.serial_consoles.size() > kMaxSerialConsoles)
    return Unsupported("more than " + std::to_string(kMaxSerialConsoles) +
                       " serial consoles (COM1-COM4)");
  const auto defaults = std::count_if(
      config.virtio_consoles.begin(), config.virtio_consoles.end(),
      [](const VirtioConsole& console) { return console.kind == ConsoleKind::kDefault; });
  if (defaults > 1) return Unsupported("a second krun_add_virtio_console_default");
  if (config.nets.size() + (config.legacy_net ? 1 : 0) > 1)
    return Unsupported("more than one network interface");
  return Ok();
}

// NAME=value entries with one value per name, in first-set order.
class Environment {
 public:
  void Set(const std::string& entry) {
    const std::string name = entry.substr(0, entry.find('='));
    for (std::string& existing : entries_) {
      if (existing.substr(0, existing.find('=')) == name) {
        existing = entry;
        return;
      }
    }
    entries_.push_back(entry);
  }
  std::optional<std::string> Get(const std::string& name) const {
    for (const std::string& entry : entries_) {
      const size_t equals = entry.find('=');
      if (entry.substr(0, equals) == name)
        return equals == std::string::npos ? "" : entry.substr(equals + 1);
    }
    return std::nullopt;
  }
  const std::vector<std::string>& entries() const { return entries_; }

 private:
  std::vector<std::string> entries_;
};

// libkrun's guest environment: the kernel's HOME=/ and TERM=linux, then the
// context's; the file's entries only where a name is unset, except HOME and
// TERM, which it overrides; KRUN_HOME/KRUN_TERM last (init/src/env.rs).
Environment WorkloadEnvironment(const KrunConfig& config, const KrunConfigFile* file) {
  Environment env;
  env.Set("HOME=/");
  env.Set("TERM=linux");
  for (const std::string& entry : config.env.value_or(std::vector<std::string>{})) env.Set(entry);
  if (file != nullptr) {
    for (const std::string& entry : file->env) {
      const std::string name = entry.substr(0, entry.find('='));
      if (name == "HOME" || name == "TERM" || !env.Get(name)) env.Set(entry);
    }
  }
  if (auto home = env.Get("KRUN_HOME")) env.Set("HOME=" + *home);
  if (auto term = env.Get("KRUN_TERM")) env.Set("TERM=" + *term);
  return env;
}

std::vector<std::string> WorkloadArgv(const KrunConfig& config, const KrunConfigFile* file) {
  if (config.exec_path) {
    std::vector<std::string> argv{*config.exec_path};
    argv.insert(argv.end(), config.args.begin(), config.args.end());
    return argv;
  }
  if (file != nullptr && !file->argv.empty()) return file->argv;
  return {kDefaultShell};
}

// Disks in call order (vda, vdb, ...); libkrun's legacy root/data disks
// only when no krun_add_disk* was made (lib.rs:305-319).
std::vector<ExtraDisk> PlanDisks(const KrunConfig& config) {
  std::vector<ExtraDisk> disks;
  for (const DiskConfig& disk : config.disks) disks.push_back({disk.path, disk.read_only});
  if (!disks.empty()) return disks;
  if (config.root_disk) disks.push_back({*config.root_disk, false});
  if (config.data_disk) disks.push_back({*config.data_disk, false});
  return disks;
}

Result<std::optional<RootDevice>> PlanRootDevice(const KrunConfig& config) {
  if (!config.root_disk_remount) return std::optional<RootDevice>();
  const RootDiskRemount& remount = *config.root_disk_remount;
  if (remount.options.find_first_of(" \t\n") != std::string::npos)
    return Error("krun_set_root_disk_remount: mount options with spaces cannot be passed", EINVAL);
  RootDevice device{remount.device, remount.fstype, remount.options};
  if (device.fstype.empty()) device.fstype = "auto";
  return std::optional<RootDevice>(device);
}

// The client's vsock ports, as links of the VM's vsock device.
std::vector<VsockPortLink> PlanVsockPorts(const KrunConfig& config) {
  std::vector<VsockPortLink> links;
  for (const auto& [port, link] : config.vsock_ports)
    links.push_back({port, link.path, link.listen});
  return links;
}

// The root directory and the other shares (mounted by the guest by tag).
Result<void> PlanShares(const KrunConfig& config, LaunchOptions& options) {
  if (config.root_dir) options.root_dir = *config.root_dir;
  options.root_virtual_entries = config.root_overlay;
  for (const FsShare& share : config.shares) {
    if (share.tag == kRootTag) {
      if (share.host_path.empty())
        return Unsupported("a root share without a host directory (krun_add_virtiofs3)");
      options.root_dir = share.host_path;
      options.read_only = share.read_only;
      continue;
    }
    options.shares.push_back({share.host_path, "", share.read_only, share.tag, share.overlay});
  }
  return Ok();
}

// A NIC with the client's MAC: a unix stream socket (a `vk switch`, passt)
// by path or fd, or a datagram link (unixgram socket, tap; by fd, or opened
// by StartEnter: OpenNicLink). No NIC but libkrun's
// implicit TSI networking: the in-process LAN, with the port map as
// 127.0.0.1 forwards (docs/libkrun.md, "Observable differences").
NetworkOptions PlanNetwork(const KrunConfig& config) {
  NetworkOptions net;
  if (!config.nets.empty()) {  // a unix stream: its path, or the client's connected socket
    const NetConfig& nic = config.nets[0];
    net.mode = NetworkOptions::Mode::kSwitch;
    net.datagram = nic.kind != NetKind::kUnixStream;  // unixgram, tap: StartEnter opens those
    if (nic.kind == NetKind::kUnixStream) net.switch_socket = nic.path;
    net.switch_fd = nic.fd ? nic.fd.get() : -1;
    net.mac = nic.mac;
    return net;
  }
  if (config.legacy_net) {  // passt's stream fd, or gvproxy's unixgram path
    net.mode = NetworkOptions::Mode::kSwitch;
    net.datagram = config.legacy_net->kind == NetKind::kUnixGram;
    net.switch_fd = config.legacy_net->fd ? config.legacy_net->fd.get() : -1;
    net.mac = config.legacy_mac;
    return net;
  }
  const bool tsi = config.vsock_mode == VsockMode::kImplicit ||
                   (config.vsock_mode == VsockMode::kExplicit &&
                    (config.tsi_features & KRUN_TSI_HIJACK_INET) != 0);
  if (!tsi) return net;
  net.mode = NetworkOptions::Mode::kInProcess;
  for (const PortMapping& port : config.port_map)
    net.publish.push_back("127.0.0.1:" + std::to_string(port.host) + ":" +
                          std::to_string(port.guest));
  return net;
}

// Terminal ports of multiport consoles: the guest's hvc1, hvc2, ...
size_t TerminalPorts(const KrunConfig& config) {
  size_t count = 0;
  for (const VirtioConsole& console : config.virtio_consoles)
    for (const ConsolePort& port : console.ports) count += port.kind == ConsolePortKind::kTty;
  return count;
}

// Each krun_add_virtio_console_multiport is a device of its own; a terminal
// port is announced as a console (libkrun marks it VIRTIO_CONSOLE_CONSOLE_PORT).
std::vector<virtio::MultiportConsoleConfig> PlanConsoles(const KrunConfig& config) {
  std::vector<virtio::MultiportConsoleConfig> consoles;
  for (const VirtioConsole& console : config.virtio_consoles) {
    // A device without ports shows the guest nothing: it is left out.
    if (console.kind != ConsoleKind::kMultiport || console.ports.empty()) continue;
    virtio::MultiportConsoleConfig device;
    for (const ConsolePort& port : console.ports)
      device.ports.push_back(
          {port.name, port.input_fd, port.output_fd, port.kind == ConsolePortKind::kTty});
    consoles.push_back(std::move(device));
  }
  return consoles;
}

// krun_set_kernel_console's device must be one the VM has: a console= naming
// none would leave the guest's init without /dev/console.
Result<std::string> PlanKernelConsole(const KrunConfig& config) {
  if (!config.kernel_console) return std::string();
  const std::string& name = *config.kernel_console;
  std::vector<std::string> devices = {"hvc0"};
  for (size_t i = 1; i <= TerminalPorts(config); ++i) devices.push_back("hvc" + std::to_string(i));
  const size_t uarts = std::max<size_t>(config.serial_consoles.size(), 1);
  for (size_t i = 0; i < uarts; ++i) devices.push_back("ttyS" + std::to_string(i));
  if (std::find(devices.begin(), devices.end(), name) != devices.end()) return name;
  return Error("krun_set_kernel_console: the VM has no console " + name + " (it has " +
                   fmt::format("{}", fmt::join(devices, ", ")) + ")",
               EINVAL);
}

std::vector<SerialPortConfig> PlanSerialPorts(const KrunConfig& config) {
  std::vector<SerialPortConfig> ports;
  for (const SerialConsole& console : config.serial_consoles)
    ports.push_back({console.output_fd, console.input_fd});
  return ports;
}

}  // namespace

proto::StdioFds WorkloadStdio(const KrunConfig& config) {
  for (const VirtioConsole& console : config.virtio_consoles) {
    if (console.kind == ConsoleKind::kDefault)
      return proto::StdioFds{console.input_fd, console.output_fd, console.err_fd};
  }
  return proto::StdioFds{};
}

Result<LaunchOptions> PlanLaunch(const KrunConfig& config, const HostSide& host) {
  VK_TRY(CheckSupported(config));
  LaunchOptions options;
  options.cpus = config.vcpus;
  options.memory_bytes = static_cast<uint64_t>(config.ram_mib) << 20;
  VK_TRY(PlanShares(config, options));
  options.extra_disks = PlanDisks(config);
  options.root_device = VK_TRY(PlanRootDevice(config));
  if (options.root_dir.empty() && !options.root_device)
    return Error("the context has no root (krun_set_root or krun_set_root_disk_remount)", EINVAL);
  if (config.kernel) {
    options.kernel_path = config.kernel->path;
    options.initrd_path = config.kernel->initramfs;  // with our agent appended
    options.initrd_add_agent = !options.initrd_path.empty();
    // Our agent's vk.* words come first; the client's words are added.
    if (config.kernel->cmdline) options.extra_cmdline = *config.kernel->cmdline;
  }

  // /.krun_config.json is read from a root directory; a disk root is not
  // the host's to read.
  Environment context_env = WorkloadEnvironment(config, nullptr);
  const std::string file_path = context_env.Get("KRUN_CONFIG").value_or(kConfigFile);
  std::optional<KrunConfigFile> file;
  if (!options.root_dir.empty()) file = ReadKrunConfigFile(options.root_dir, file_path);
  const KrunConfigFile* from_file = file ? &*file : nullptr;

  options.command = WorkloadArgv(config, from_file);
  Environment env = WorkloadEnvironment(config, from_file);
  options.env = env.entries();
  options.workdir =
      config.workdir.value_or(from_file && from_file->workdir ? *from_file->workdir : "/");
  if (from_file && from_file->tmpfs_at) options.tmpfs.push_back({*from_file->tmpfs_at, {}, {}});
  options.hostname = env.Get("HOSTNAME").value_or(kDefaultHostname);
  if (auto valid = CheckHostname(options.hostname); !valid.ok())
    return Error("HOSTNAME=" + options.hostname + ": " + valid.error().message(), EINVAL);
  for (const Rlimit& limit : config.rlimits)
    options.rlimits.push_back({limit.resource, limit.cur, limit.max});

  options.network = PlanNetwork(config);
  options.vsock_ports = PlanVsockPorts(config);
  if (config.console_output) options.console_path = *config.console_output;
  options.serial_ports = PlanSerialPorts(config);
  options.consoles = PlanConsoles(config);
  options.kernel_console = VK_TRY(PlanKernelConsole(config));
  options.stdio = WorkloadStdio(config);
  if (host.terminal) options.tty = proto::TtyConfig{host.term, host.rows, host.cols};
  options.display_name = !options.root_dir.empty() ? options.root_dir : options.root_device->device;
  return options;
}

}  // namespace vk::capi
