#include "runtime/guest_cmdline.h"

#include <cstdio>
#include <cstdlib>

#include "proto/virtctl.h"
#include "runtime/vm_state.h"
#include "runtime/warm_template.h"

namespace vk {

namespace {

constexpr const char* kBaseCmdline = "reboot=t panic=-1 quiet";
constexpr const char* kDefaultPath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string Octal(uint32_t value) {
  char text[12];
  std::snprintf(text, sizeof(text), "%o", value);
  return text;
}

// vk.tmpfs and vk.bind words (docs/protocol.md, "Boot parameters").
std::string MountWords(const LaunchOptions& options) {
  std::string words;
  for (const GuestTmpfs& tmpfs : options.tmpfs) {
    words += " vk.tmpfs=" + tmpfs.guest_path;
    if (tmpfs.size_bytes) words += ":size=" + std::to_string(*tmpfs.size_bytes);
    if (tmpfs.mode) words += ":mode=" + Octal(*tmpfs.mode);
  }
  for (const GuestBind& bind : options.binds)
    words += " vk.bind=" + bind.source + ":" + bind.target + (bind.read_only ? ":ro" : "");
  return words;
}

// vk.root words: the disk, the root directory's virtio-fs tag, or a device.
std::string RootWords(const LaunchOptions& options) {
  if (options.root_device) {
    const RootDevice& root = *options.root_device;
    std::string words = "vk.root=" + root.device;
    if (!root.fstype.empty()) words += " vk.rootfstype=" + root.fstype;
    if (!root.options.empty()) words += " vk.rootflags=" + root.options;
    return words;
  }
  if (!options.root_dir.empty())
    return std::string("vk.root=") + kRootShareTag + " vk.rootfstype=virtiofs";
  return "vk.root=/dev/vda";
}

}  // namespace

bool IsAgentVsockPort(uint32_t port) {
  return port == kTemplatePort || port == kLaunchPort || port == kExecPort ||
         port == kControlPort || port == proto::kVirtctlPort;
}

std::string ShareTag(size_t index) { return "vkfs" + std::to_string(index); }

std::string ShareTagOf(const LaunchOptions& options, size_t index) {
  const std::string& own = options.shares[index].tag;
  return own.empty() ? ShareTag(index) : own;
}

std::string GuestParams(const LaunchOptions& options, bool overlay) {
  std::string params = RootWords(options) + " vk.serve=" + std::to_string(kExecPort);
  std::string hostname = options.hostname.empty() ? options.name : options.hostname;
  if (!hostname.empty()) params += " vk.hostname=" + hostname;
  if (options.read_only || overlay) params += " vk.ro=1";
  if (overlay) params += " vk.overlay=/dev/vdb";
  if (options.write_etc) params += " vk.etc=1";
  if (options.network.mode != NetworkOptions::Mode::kNone) params += " vk.net=dhcp";
  for (size_t i = 0; i < options.shares.size(); ++i) {
    const SharedDir& share = options.shares[i];
    if (share.guest_path.empty()) continue;  // the guest mounts it by its tag
    params += " vk.fs=" + ShareTagOf(options, i) + ":" + share.guest_path +
              (share.read_only ? ":ro" : "");
  }
  params += MountWords(options);
  if (!options.command.empty()) params += " vk.port=" + std::to_string(kLaunchPort);
  if (options.command.empty() && options.detach) params += " vk.idle=1";
  return params;
}

std::string KernelConsole(const LaunchOptions& options) {
  if (!options.kernel_console.empty()) return options.kernel_console;
  return options.serial_ports.empty() ? kDefaultKernelConsole : "hvc0";
}

std::string BaseCmdline(KvmFlavor flavor, const std::string& console) {
  std::string cmdline = "console=" + console + " " + kBaseCmdline;
  std::string quirks = FlavorCmdline(flavor);
  if (!quirks.empty()) cmdline += " " + quirks;
  return cmdline;
}

std::string ExtraKernelArgs() {
  const char* extra = std::getenv("VIRTKIT_KERNEL_ARGS");
  return extra != nullptr ? extra : "";
}

std::string GuestCmdline(const LaunchOptions& options, KvmFlavor flavor, bool overlay) {
  std::string cmdline = BaseCmdline(flavor, KernelConsole(options));
  // The kernel probes ttyS1.. only when told to (kernel/config.fragment).
  if (options.serial_ports.size() > 1)
    cmdline += " 8250.nr_uarts=" + std::to_string(options.serial_ports.size());
  cmdline += " " + GuestParams(options, overlay);
  if (!options.extra_cmdline.empty()) cmdline += " " + options.extra_cmdline;
  if (std::string extra = ExtraKernelArgs(); !extra.empty()) cmdline += " " + extra;
  return cmdline;
}

proto::ExecRequest CommandRequest(const LaunchOptions& options) {
  proto::ExecRequest request;
  request.argv = options.command;
  request.env.push_back(kDefaultPath);
  request.env.push_back("HOME=/root");
  request.env.insert(request.env.end(), options.env.begin(), options.env.end());
  request.cwd = options.workdir.empty() ? "/" : options.workdir;
  request.user = options.user;
  request.tty = options.tty;
  request.rlimits = options.rlimits;
  return request;
}

}  // namespace vk
