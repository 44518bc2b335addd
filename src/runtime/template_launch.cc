#include "runtime/template_launch.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "base/private_dir.h"
#include "runtime/guest_cmdline.h"
#include "runtime/vm_dir.h"
#include "runtime/vm_network.h"
#include "virtio/blk/block_device.h"
#include "virtio/console/console_device.h"
#include "virtio/fs/fs_device.h"
#include "virtio/rng/rng_device.h"
#include "virtio/vsock/vsock_device.h"

namespace vk {

namespace {

bool EnvironmentSays(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && std::string(value) == "1";
}

}  // namespace

bool UseTemplate(const LaunchOptions& options) {
  if (options.cold || EnvironmentSays("VIRTKIT_COLD_BOOT")) return false;
  // Another initramfs may not hold our agent (nothing to take an assignment);
  // --cmdline words only mean something at boot. The guest learns share
  // tags when it boots: a template knows only vkfsN.
  // Virtual entries (libkrun's overlay) are not part of a template's shape either.
  bool own_tags = std::any_of(
      options.shares.begin(), options.shares.end(),
      [](const SharedDir& share) { return !share.tag.empty() || !share.virtual_entries.empty(); });
  // Disks beyond the root's are not part of a template's shape.
  // Consoles and another console= are libkrun's, wired at boot.
  return options.initrd_path.empty() && options.extra_cmdline.empty() && !own_tags &&
         options.extra_disks.empty() && !options.root_device && options.serial_ports.empty() &&
         options.consoles.empty() && options.kernel_console.empty() &&
         options.root_virtual_entries.empty();
}

TemplateShape ShapeFor(const LaunchOptions& options, KvmFlavor flavor, uint32_t cpus,
                       bool scratch) {
  TemplateShape shape;
  shape.cpus = cpus;
  shape.memory_bytes = options.memory_bytes;
  shape.root_read_only = options.read_only || scratch;
  shape.root_dir = !options.root_dir.empty();
  shape.scratch = scratch;
  shape.net = options.network.mode != NetworkOptions::Mode::kNone;
  shape.shares = static_cast<uint32_t>(options.shares.size());
  shape.cmdline = BaseCmdline(flavor) + " vk.template=" + std::to_string(kTemplatePort);
  // Debugging a template's boot (e.g. "loglevel=7") makes a template of its own.
  if (std::string extra = ExtraKernelArgs(); !extra.empty()) shape.cmdline += " " + extra;
  return shape;
}

namespace {

// The template's devices, in AddDevices' order, with empty disk slots and
// shares of an empty directory (the tags are what the guest sees at boot).
Result<void> AddTemplateDevices(Machine& machine, const TemplateShape& shape,
                                const std::string& build_dir) {
  if (shape.net) VK_TRY(AttachTemplateNetwork(machine));
  const std::string empty_dir = build_dir + "/empty";
  if (shape.shares > 0 || shape.root_dir) VK_TRY(CreatePrivateDirectory(empty_dir));
  auto add_share_slot = [&machine, &empty_dir](const std::string& tag) -> Result<void> {
    virtio::FsOptions fs;
    fs.shared_dir = empty_dir;
    fs.tag = tag;
    fs.read_only = true;
    return machine.AddVirtioDevice(VK_TRY(virtio::CreateFsDevice(fs)));
  };
  if (shape.root_dir) {
    VK_TRY(add_share_slot(kRootShareTag));
  } else {
    VK_TRY(machine.AddVirtioDevice(virtio::CreateEmptyBlockSlot(shape.root_read_only)));
  }
  if (shape.scratch) VK_TRY(machine.AddVirtioDevice(virtio::CreateEmptyBlockSlot(false)));
  for (uint32_t i = 0; i < shape.shares; ++i) VK_TRY(add_share_slot(ShareTag(i)));
  virtio::VsockConfig vsock;
  vsock.uds_path = VmDir::At(build_dir).VsockSocket();
  VK_TRY(machine.AddVirtioDevice(VK_TRY(virtio::CreateVsockDevice(vsock))));
  VK_TRY(machine.AddVirtioDevice(virtio::CreateRngDevice()));
  VK_TRY(machine.AddVirtioDevice(virtio::CreateConsoleDevice({-1, -1})));
  return Ok();
}

}  // namespace

Result<std::string> PrepareTemplate(const TemplateShape& shape, const TemplateGuest& guest,
                                    const LaunchOptions& options) {
  TemplateOptions template_options;
  template_options.boot_timeout = std::max(options.boot_timeout, std::chrono::seconds(900));
  return EnsureTemplate(
      shape, guest,
      [&shape](Machine& machine, const std::string& build_dir) {
        return AddTemplateDevices(machine, shape, build_dir);
      },
      template_options);
}

// Restores the VM from its template `dir`, which EnsureTemplate checked
// before the sandbox went on. Should the restore still fail (a device layout
// that drifted from the template's), the template is removed for the next
// run to make again and this VM boots instead: no template can be made once
// the sandbox is on (its sockets live outside the run directory).
Result<std::unique_ptr<Machine>> CreateFromTemplate(MachineConfig config, const std::string& dir,
                                                    GuestFiles& files) {
  config.restore_from = dir;
  auto machine = Machine::Create(config);
  if (machine.ok()) return machine;
  std::fprintf(stderr,
               "vk: the warm template cannot be used (%s); removed it (the next VM makes it "
               "again), booting this one\n",
               machine.error().message().c_str());
  DiscardTemplate(dir);
  config.restore_from.clear();
  GuestBytes bytes = VK_TRY(files.Load());
  config.kernel = bytes.kernel;
  config.initrd = bytes.initrd;
  return Machine::Create(config);
}

}  // namespace vk
