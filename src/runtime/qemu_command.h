// The command line of a virtkit guest under `qemu-system-x86_64 -M microvm`
// (`vk run --vmm qemu`, issue 19): what the plan of a VM turns into, the CPU
// model to ask for, and finding a QEMU new enough. Building the argv is pure;
// only FindQemu runs anything (`qemu-system-x86_64 --version`).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vk {

// QEMU 7.2 is the first with `-netdev stream` (our NIC's unix socket back end).
inline constexpr int kQemuMinMajor = 7;
inline constexpr int kQemuMinMinor = 2;

// microvm's virtio-mmio transports with acpi=off, which we use: 8 (QEMU 7.2
// hw/i386/microvm.c, microvm_devices_init: "virtio_num_transports = 8"; the
// 24 of the second IO-APIC exist only with ACPI). Checked by hand: a ninth
// -device virtio-*-device fails with "No 'virtio-bus' bus found".
inline constexpr size_t kMicrovmVirtioSlots = 8;
// The virtio-fs tag field is 36 bytes (virtio 1.2 §5.11.4, struct virtio_fs_config).
inline constexpr size_t kVirtioFsTagMax = 36;

struct QemuDisk {
  std::string path;
  bool read_only = false;
};

// A virtio-fs share: the vhost-user-fs back end's socket and the tag the
// guest mounts it by.
struct QemuShare {
  std::string socket;
  std::string tag;
};

struct QemuPlan {
  std::string binary = "qemu-system-x86_64";
  std::string name;       // -name (the VM's name or run-dir base name); empty: none
  std::string cpu_model;  // "host" on hardware KVM, EPYC-Rome on PVM (QemuCpuModel)
  unsigned cpus = 1;
  uint64_t memory_bytes = 256ull << 20;  // a whole number of MiB
  std::string kernel, initrd, cmdline;
  std::vector<QemuDisk> disks;  // vda, vdb, ... in this order
  std::vector<QemuShare> shares;
  std::string vsock_socket;      // vhost-user-vsock back end socket (always present)
  std::string network_socket;    // empty: no NIC; else a `-netdev stream` client of this socket
  std::array<uint8_t, 6> mac{};  // the NIC's MAC
  std::string qmp_socket;        // the QMP server socket QEMU creates
};

// The whole argv (binary first), or an ErrorKind::kUsage error naming what
// QEMU could not take.
Result<std::vector<std::string>> QemuArgv(const QemuPlan& plan);

// "host" unless `pvm` ("EPYC-Rome,check=off": a PVM guest must not see
// features the PVM hypervisor does not virtualize; QEMU leaves out those of
// the model the host lacks either way, check=off only stops it printing a
// warning for each, some 40 lines in qemu.log per start); `override_env`
// (VIRTKIT_QEMU_CPU's value, may be null) wins when non-empty.
std::string QemuCpuModel(bool pvm, const char* override_env);

struct QemuVersion {
  int major = 0, minor = 0, micro = 0;
};
// The version on the first line of `qemu-system-x86_64 --version`
// ("QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)").
Result<QemuVersion> ParseQemuVersion(std::string_view version_output);

// The absolute path of a QEMU 7.2 or later: VIRTKIT_QEMU (a path, or a name
// looked up in PATH), else qemu-system-x86_64 from PATH. Errors are
// ErrorKind::kUsage and say what to install or set.
Result<std::string> FindQemu();

}  // namespace vk
