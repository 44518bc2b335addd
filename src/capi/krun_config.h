// KrunConfig: everything one libkrun context configures, as the krun_*
// setters stored it. Plain data: the setters check their arguments, and
// ValidateConfig (config_validation.h) checks coherence when the VM starts.
// The VM start (start_enter.h) receives one of these by value.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "capi/port_map_spec.h"
#include "capi/rlimit_spec.h"
#include "virtio/fs/virtual_entries.h"

namespace vk::capi {

// The virtio-fs tag the guest mounts as "/" (KRUN_FS_ROOT_TAG).
inline constexpr char kRootTag[] = "/dev/root";
// libkrun's MAC for the legacy passt/gvproxy interface (lib.rs:3193).
inline constexpr std::array<uint8_t, 6> kDefaultLegacyMac = {0x5a, 0x94, 0xef, 0xe4, 0x0c, 0xee};

// krun_add_disk3's sync_mode (KRUN_SYNC_*).
enum class SyncMode : uint8_t { kNone = 0, kRelaxed = 1, kFull = 2 };

// One virtio-blk device, vda, vdb, ... in call order. Only raw images are
// accepted (qcow2/vmdk are refused at the call), so there is no format field.
struct DiskConfig {
  std::string block_id;  // the name used in messages
  std::string path;      // host image file
  bool read_only = false;
  bool direct_io = false;
  SyncMode sync = SyncMode::kFull;  // krun_add_disk/2: libkrun's Linux default
};

// krun_set_root_disk_remount: the agent mounts `device` as "/".
struct RootDiskRemount {
  std::string device;   // "/dev/vda1"
  std::string fstype;   // empty: try the kernel's block file systems ("auto")
  std::string options;  // mount data, may be empty
};

// One virtio-fs share (krun_set_root adds one with tag kRootTag).
struct FsShare {
  std::string tag;
  std::string host_path;  // empty: only overlay entries (krun_add_virtiofs3 with NULL)
  uint64_t shm_size = 0;  // DAX window: accepted, ignored (we have no DAX)
  bool read_only = false;
  // krun_fs_add_overlay_*: virtual files and directories over the share's
  // root (their file data is the client's, not copied).
  std::vector<virtio::fs::VirtualEntry> overlay;
};

// krun_set_kernel's formats that we accept (KRUN_KERNEL_FORMAT_*).
enum class KernelFormat : uint32_t {
  kRaw = 0,  // a libkrunfw kernel bundle (x86_64): not run (docs/libkrun.md, difference 13)
  kElf = 1,
  kImageBz2 = 3,
  kImageGz = 4,
  kImageZstd = 5,
};

struct KernelConfig {
  std::string path;
  KernelFormat format = KernelFormat::kElf;
  std::string initramfs;               // empty: none; checked to exist at the call
  std::optional<std::string> cmdline;  // nullopt: virtkit's default
};

enum class NetKind : uint8_t {
  kUnixStream,  // 4-byte big-endian length + frame (QEMU stream framing)
  kUnixGram,    // one frame per datagram
  kTap,         // host tap device, path = interface name
};

// One krun_add_net_*() interface, eth0, eth1, ... in call order.
struct NetConfig {
  NetKind kind = NetKind::kUnixStream;
  std::string path;  // socket path, or the tap name; empty when fd is set
  UniqueFd fd;       // a connected socket the library owns; invalid when path is set
  std::array<uint8_t, 6> mac{};
  uint32_t features = 0;  // NET_FEATURE_* bits offered to the guest
  uint32_t flags = 0;     // NET_FLAG_VFKIT / NET_FLAG_DHCP_CLIENT
};

// The legacy single interface (krun_set_passt_fd / krun_set_gvproxy_path),
// added after `nets` at start with COMPAT_NET_FEATURES and `legacy_mac`.
struct LegacyNet {
  NetKind kind = NetKind::kUnixStream;  // passt: stream on fd; gvproxy: gram to path + "VFKT"
  UniqueFd fd;
  std::string path;
};

struct VsockPort {
  uint32_t port = 0;
  std::string path;     // host unix socket
  bool listen = false;  // false: guest connects out to path; true: we listen at path
};

enum class VsockMode : uint8_t {
  kImplicit,  // the default device (with TSI-style networking: our in-process LAN)
  kDisabled,  // krun_disable_implicit_vsock, not re-added
  kExplicit,  // krun_add_vsock after disabling
};

enum class ConsoleKind : uint8_t {
  kDefault,    // krun_add_virtio_console_default: three host fds
  kMultiport,  // krun_add_virtio_console_multiport + krun_add_console_port_*
};

enum class ConsolePortKind : uint8_t { kTty, kInOut };

// Descriptors in consoles are the caller's (duplicated at start, never closed by us).
struct ConsolePort {
  ConsolePortKind kind = ConsolePortKind::kInOut;
  std::string name;  // may be empty
  int input_fd = -1;
  int output_fd = -1;  // the tty fd for kTty
};

struct VirtioConsole {
  ConsoleKind kind = ConsoleKind::kDefault;
  int input_fd = -1;  // kDefault only; -1 leaves that stream out
  int output_fd = -1;
  int err_fd = -1;
  std::vector<ConsolePort> ports;  // kMultiport only
};

// What the VM's devices can take (launch_plan.cc checks these against the
// devices' own bounds): ports of one multiport console and the bytes of a
// port name (virtio/console/multiport_console_device.h), and the 8250 UARTs
// at the four legacy I/O ports, ttyS0-ttyS3 (vmm/serial_ports.h).
inline constexpr size_t kMaxConsolePorts = 31;
inline constexpr size_t kMaxConsolePortNameBytes = 255;
inline constexpr size_t kMaxSerialConsoles = 4;

struct SerialConsole {
  int input_fd = -1;
  int output_fd = -1;
};

struct KrunConfig {
  // Machine (krun_create_ctx's defaults: libkrun's machine_config.rs).
  uint8_t vcpus = 1;
  uint32_t ram_mib = 128;
  bool nested_virt = false;    // recorded, ignored
  bool split_irqchip = false;  // recorded, ignored (always in-kernel irqchip)

  // Root and storage.
  std::optional<std::string> root_dir;  // krun_set_root: "/" over virtio-fs tag kRootTag
  std::vector<virtio::fs::VirtualEntry> root_overlay;  // overlay entries of kRootTag
  std::optional<std::string> root_disk;                // legacy, vda when `disks` is empty
  std::optional<std::string> data_disk;                // legacy, after root_disk
  std::vector<DiskConfig> disks;
  std::optional<RootDiskRemount> root_disk_remount;
  std::vector<FsShare> shares;  // krun_add_virtiofs*, in call order

  // Workload.
  std::optional<std::string> exec_path;
  std::vector<std::string> args;                // argv without argv[0], as libkrun
  std::optional<std::vector<std::string>> env;  // nullopt: never set
  std::optional<std::string> workdir;
  std::vector<Rlimit> rlimits;
  std::vector<std::string> malformed_rlimits;  // skipped with a console message, as libkrun's guest
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  std::optional<KernelConfig> kernel;

  // Network.
  std::vector<PortMapping> port_map;
  std::vector<NetConfig> nets;
  std::optional<LegacyNet> legacy_net;
  std::array<uint8_t, 6> legacy_mac = kDefaultLegacyMac;

  // vsock.
  VsockMode vsock_mode = VsockMode::kImplicit;
  uint32_t tsi_features = 1;                  // KRUN_TSI_HIJACK_INET while implicit
  std::map<uint32_t, VsockPort> vsock_ports;  // by guest port; a later call replaces

  // Consoles.
  bool implicit_console = true;
  std::optional<std::string> console_output;   // implicit console -> this file
  std::optional<std::string> kernel_console;   // "ttyS0", "hvc1": the console= word
  std::vector<VirtioConsole> virtio_consoles;  // console id = index
  std::vector<SerialConsole> serial_consoles;  // ttyS0, ttyS1, ...

  // krun_get_shutdown_eventfd: made on first call, owned here.
  UniqueFd shutdown_eventfd;

  // Whether a vsock device exists for client ports and the port map.
  bool HasVsock() const { return vsock_mode != VsockMode::kDisabled; }
};

}  // namespace vk::capi
