// Boots a root disk with the embedded kernel and agent and runs one command in
// it (`vk launch`): the VM assembly shared by the CLI and, later, `vk run`.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "proto/exec_client.h"
#include "proto/messages.h"
#include "runtime/vm_dir.h"
#include "runtime/vm_network.h"
#include "runtime/vmm_kind.h"
#include "virtio/console/multiport_console_device.h"
#include "virtio/fs/virtual_entries.h"
#include "vmm/serial_ports.h"

namespace vk {

// A host directory served to the guest over virtio-fs (vk run -v, --workdir).
struct SharedDir {
  std::string host_path;   // empty: a share of virtual entries only (libkrun)
  std::string guest_path;  // empty: not mounted by the agent (the guest mounts the tag itself)
  bool read_only = false;
  std::string tag;  // the virtio-fs tag; empty: vkfsN by position (ShareTag)
  // libkrun's overlay entries: read-only virtual files and directories over
  // the share's root (virtio/fs/virtual_entries.h; file data not copied).
  std::vector<virtio::fs::VirtualEntry> virtual_entries;
};

// A tmpfs in the guest (vk run --tmpfs, RUN --mount=type=tmpfs): never on
// any disk, gone with the VM.
struct GuestTmpfs {
  std::string guest_path;
  std::optional<uint64_t> size_bytes;  // none: the guest kernel's default (half its memory)
  std::optional<uint32_t> mode;        // none: 1777
};

// A guest file or directory bind-mounted onto another guest path (a build
// secret from its share onto the RUN's target); a missing target is made.
struct GuestBind {
  std::string source;
  std::string target;
  bool read_only = true;
};

// A raw disk image attached after the root's own devices (libkrun's
// krun_add_disk*): the guest sees it as the next vdX and mounts it itself.
struct ExtraDisk {
  std::string path;
  bool read_only = false;
};

// Instead of `disk` or `root_dir`: a guest block device (one of the extra
// disks) mounted as "/" (libkrun's krun_set_root_disk_remount).
struct RootDevice {
  std::string device;   // "/dev/vda", "/dev/vdb1"
  std::string fstype;   // empty: whichever block file system the kernel finds
  std::string options;  // mount data, may be empty; no spaces
};

// A vsock port of the VM's user (libkrun's krun_add_vsock_port2).
struct VsockPortLink {
  uint32_t port = 0;
  std::string path;     // a host unix socket
  bool listen = false;  // false: a guest connect to host `port` reaches `path`;
                        // true: connects to `path` reach guest `port`
};

struct LaunchOptions {
  std::string disk;
  // Instead of `disk`: a host directory as the guest's "/" over virtio-fs
  // (libkrun's krun_set_root). The guest writes into it unless read_only.
  std::string root_dir;
  std::vector<virtio::fs::VirtualEntry> root_virtual_entries;  // over root_dir, as for shares
  std::optional<RootDevice> root_device;  // instead of both: "/" on an extra disk
  std::vector<ExtraDisk> extra_disks;
  bool read_only = false;
  unsigned cpus = 1;
  uint64_t memory_bytes = 256ull << 20;
  std::string console_path;       // empty: hidden (command) or the terminal (no command)
  std::vector<std::string> env;   // K=V
  std::string workdir;            // in the guest; empty: /
  std::string kernel_path;        // empty: the embedded kernel
  std::string initrd_path;        // empty: an initramfs with the embedded agent
  bool initrd_add_agent = false;  // initrd_path + the embedded agent (libkrun's krun_set_kernel)
  std::string extra_cmdline;
  std::optional<std::chrono::seconds> timeout;
  std::vector<std::string> command;        // empty: the disk's /sbin/init
  std::string name;                        // a named VM keeps its state dir (vk ps/exec/stop)
  bool remove_state_on_exit = false;       // named: remove its state dir when it ends (--rm)
  bool detach = false;                     // run in the background once the agent answers
  std::chrono::seconds boot_timeout{180};  // detach: how long to wait for the agent

  // vk run: the disk is a shared read-only base; this makes the VM's
  // writable layer (called with the VM's run directory, returns the path of
  // a fresh ext4 scratch disk, attached as vdb under an overlayfs root).
  std::function<Result<std::string>(const VmDir& run_dir)> make_scratch_disk;
  std::vector<SharedDir> shares;
  std::vector<GuestTmpfs> tmpfs;              // mounted before the shares
  std::vector<GuestBind> binds;               // after the shares
  std::string user;                           // the command's user (name, uid, name:group...)
  std::vector<proto::ResourceLimit> rlimits;  // set in the command's process before its exec
  std::optional<proto::TtyConfig> tty;        // run the command on a terminal (stdin raw)
  bool stdin_open = true;                     // false: the command's stdin is empty (EOF)
  proto::StdioFds stdio;                      // the command's stdio on the host (default 0, 1, 2)
  std::string hostname;                       // default: the VM's name
  std::string display_name;                   // what `vk ps` shows (the image), default the disk
  bool write_etc = false;                     // docker-style /etc/hostname and /etc/hosts
  // Boot the kernel instead of restoring the warm template of the VM's
  // shape (--cold; also VIRTKIT_COLD_BOOT=1). docs/snapshots.md.
  bool cold = false;
  // QEMU instead of virtkit's VMM (runtime/qemu_launch.h): the same guest,
  // devices served over vhost-user; no templates or checkpoints.
  VmmKind vmm = VmmKind::kVirtkit;
  NetworkOptions network;  // --net, --net=SOCK, -p, --egress-allow
  // libkrun's serial consoles: ttyS0.. wired to the caller's descriptors.
  // The kernel console then moves from ttyS0 to hvc0 (console_path), so
  // the guest's ttyS0 carries only what programs write to it.
  std::vector<SerialPortConfig> serial_ports;
  // libkrun's krun_set_kernel_console: the console= device, one this VM has
  // (ttyS0..ttyS<serial ports - 1>, hvc0, hvc1.. for console ports below).
  // Empty: ttyS0, or hvc0 as above.
  std::string kernel_console;
  // libkrun's multiport virtio consoles (ports with the caller's fds), after
  // the implicit hvc0: their console ports become hvc1, hvc2, ...
  std::vector<virtio::MultiportConsoleConfig> consoles;
  std::vector<VsockPortLink> vsock_ports;  // not the agent's ports (IsAgentVsockPort)
  // Firewall rules as text (the library's): written to the VM's state dir
  // (VmDir::FirewallRules) and used as network.firewall_file, which must
  // then be empty.
  std::string firewall_rules;
  // `vk restore`: resume the checkpoint snapshot in this directory instead of
  // booting (no template, no assignment: the guest is past all that). Set by
  // Restore() only.
  std::string restore_checkpoint;
  // `vk restore` of a VM whose detached command the checkpoint's agent keeps:
  // re-attach to it (docs/protocol.md, "Re-attaching"). Set by Restore() only.
  std::optional<proto::AttachRequest> attach_command;
};

// Runs the launch; on success returns the command's exit code (or 128+signal,
// or the guest's power-off status when no command was given). A failure of
// vk's own carries its ErrorKind (base/exit_codes.h maps it to an exit code).
Result<int> Launch(const LaunchOptions& options);

// `vk restore NAME`: brings a checkpointed VM back (docs/snapshots.md,
// "Checkpoints"), detached like `-d`: returns 0 once its agent answers.
Result<int> Restore(const std::string& name, std::chrono::seconds boot_timeout);

// Makes (if missing) the warm template VMs launched with `options` restore
// (`vk warm`); returns its directory. docs/snapshots.md.
Result<std::string> WarmTemplate(const LaunchOptions& options);

}  // namespace vk
