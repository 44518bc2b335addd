// What a Vm handle knows of its VM: the name it is found by (through
// runtime::NamedVm, which owns every state file), and what Run() asked for
// that the VM's record does not keep (ports, env, image).
#pragma once

#include <string>
#include <vector>

#include "runtime/named_vm.h"
#include "virtkit/virtkit.h"

namespace virtkit {

struct Vm::State {
  std::string name;
  std::string id;
  std::string dir;
  std::string vms_root;  // where its VmDir is (vk::VmDir::RootFor its data dir)
  std::string image;
  std::vector<PortForward> ports;
  std::vector<std::string> env;  // the VM's (image config + Options::env), before each Exec's own
  // Run() without detach: the handle stops and removes the VM when it goes.
  bool owned = false;
  bool removed = false;
};

namespace internal {

// The port forwards in its record (for VMs this process did not start).
std::vector<PortForward> PortsOf(const vk::VmRecord& record);
// "PID-STARTTIME" of the VMM: unique on this host.
std::string VmId(const vk::VmRecord& record);
VmStatus StatusOf(const vk::NamedVm& vm);

}  // namespace internal
}  // namespace virtkit
