// A VM's state directory and every name in it (DESIGN.md §3). Nothing outside
// this type spells a state file's or socket's name:
//
//   $XDG_RUNTIME_DIR/virtkit/vms/<name>/   (a named VM; base/private_dir.h)
//     vm.json        the record: pid, start time, exit code (runtime/vm_state.h)
//     console.log    the guest's console;   vm.log   the VMM's own output (-d)
//     exec.sock      host side of the agent's exec port (vsock 4444)
//     control.sock   host side of the agent's control port (vsock 4445)
//     vsock.sock     Firecracker-style vsock socket: "CONNECT <port>"
//     vsock.sock_P   where the guest's connects to host port P arrive
//     vmm.sock       the VMM's own control socket (runtime/vmm_control.h)
//     scratch.ext4   the writable layer of `vk run` (vdb)
//     firewall.rules firewall rules given as text (the library's RunSpec)
//     checkpoint/    a checkpoint (runtime/checkpoint.h); restore.lock
//
// An unnamed foreground VM gets a temporary directory of the same layout.
#pragma once

#include <cstdint>
#include <string>

#include "base/remove_tree.h"
#include "base/result.h"

namespace vk {

class VmDir {
 public:
  // Whether the directory goes away with this object.
  enum class Ownership { kKept, kRemovedUnlessKept };

  // The directory every named VM's directory is in.
  static Result<std::string> Root();
  // The same for a `vk` whose data directory is `data_dir` (the library's
  // Options::data_dir: its supervisor runs with VIRTKIT_HOME=data_dir).
  static std::string RootFor(const std::string& data_dir);
  // A named VM's directory (which may not exist) in `root` (default Root()).
  // The name is checked (base/names.h) before any path is built, so "../.."
  // is an error.
  static Result<VmDir> Named(const std::string& name, const std::string& root = "");
  // Creates a new named VM's directory (0700, in a private VMs directory);
  // a taken name is an ErrorKind::kConflict. Removed on destruction unless
  // Keep() is called, so a failed start leaves no name taken.
  static Result<VmDir> CreateNamed(const std::string& name);
  // A temporary directory for an unnamed VM, removed on destruction.
  static Result<VmDir> CreateTemporary();
  // An existing directory used with this layout (a template's build dir).
  static VmDir At(std::string path);

  VmDir(VmDir&& other) noexcept;
  VmDir& operator=(VmDir&& other) noexcept;
  VmDir(const VmDir&) = delete;
  VmDir& operator=(const VmDir&) = delete;
  ~VmDir();

  const std::string& path() const { return path_; }
  // Keeps the directory after this object is gone (the VM owns it now).
  void Keep() { ownership_ = Ownership::kKept; }
  // Removes the directory now (within Root(), never through a symlink).
  Result<RemoveOutcome> Remove();

  std::string Record() const { return File("vm.json"); }
  std::string ConsoleLog() const { return File("console.log"); }
  std::string VmmLog() const { return File("vm.log"); }
  std::string ExecSocket() const { return File("exec.sock"); }
  std::string ControlSocket() const { return File("control.sock"); }
  std::string VsockSocket() const { return File("vsock.sock"); }
  // Where a guest's connection to host vsock port `port` arrives.
  std::string GuestConnectSocket(uint32_t port) const;
  std::string VmmSocket() const { return File("vmm.sock"); }
  std::string ScratchDisk() const { return File("scratch.ext4"); }
  std::string FirewallRules() const { return File("firewall.rules"); }
  std::string Checkpoint() const { return File("checkpoint"); }
  std::string CheckpointInProgress() const { return File("checkpoint.tmp"); }
  std::string RestoreLock() const { return File("restore.lock"); }
  // --vmm qemu: QEMU's own messages, its QMP socket, and the sockets our
  // vhost-user back ends and LAN serve it on.
  std::string QemuLog() const { return File("qemu.log"); }
  std::string QmpSocket() const { return File("qmp.sock"); }
  std::string VhostVsockSocket() const { return File("vhost-vsock.sock"); }
  std::string VhostFsSocket(size_t index) const {
    return path_ + "/vhost-fs-" + std::to_string(index) + ".sock";
  }
  std::string LanSocket() const { return File("lan.sock"); }

 private:
  VmDir(std::string root, std::string path, Ownership ownership);
  std::string File(const char* name) const { return path_ + "/" + name; }

  std::string root_;  // what path_ must stay inside when it is removed
  std::string path_;
  Ownership ownership_ = Ownership::kKept;
};

}  // namespace vk
