// vk-agent's boot parameters, read from the kernel command line
// (docs/protocol.md, "Boot parameters").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/mount_params.h"
#include "agent/net_config.h"
#include "base/result.h"

namespace vk::agent {

struct InitParams {
  std::string root;  // vk.root=/dev/vda; empty: stay in the initramfs
  std::string root_fstype =
      "ext4";                    // vk.rootfstype=; "auto": each block file system the kernel has
  std::string root_options;      // vk.rootflags=: mount data for the root
  bool read_only = false;        // vk.ro=1
  std::optional<uint32_t> port;  // vk.port=1024: host vsock port to call for the command
  std::string hostname;          // vk.hostname=
  // vk.serve=PORT: serve execs (`vk exec`) on this guest vsock port, and
  // power-off requests on PORT+1 (`vk stop`). vk.port absent: stay up.
  std::optional<uint32_t> serve_port;
  // vk.idle=1: no command and no distro init: stay up serving execs (vk launch -d).
  bool idle = false;
  // vk.pvm=1: the host is PVM (see kernel/README.md, "Vector state").
  bool pvm = false;
  // vk.overlay=/dev/vdb: a writable scratch disk; root becomes an overlayfs
  // of the (read-only) root disk under an upper layer on this disk.
  std::string overlay;
  std::vector<FsMount> fs_mounts;        // vk.fs=..., in order
  std::vector<TmpfsMount> tmpfs_mounts;  // vk.tmpfs=..., in order
  std::vector<BindMount> bind_mounts;    // vk.bind=..., in order
  // vk.etc=1: write /etc/hostname and /etc/hosts as docker does (vk run).
  bool write_etc = false;
  // vk.net=dhcp | vk.net=static:IP/PREFIX,GATEWAY,DNS: configure eth0.
  std::optional<NetConfigRequest> net;
  // vk.template=PORT: a warm template (docs/protocol.md, "Template
  // assignment"): touch nothing VM-specific, wait on guest vsock PORT for the
  // host to assign the per-VM parameters.
  std::optional<uint32_t> template_port;
};

// Unknown words are ignored (they belong to the kernel); malformed vk.*
// values are errors, so a typo does not silently boot something else.
Result<InitParams> ParseInitParams(std::string_view cmdline);

}  // namespace vk::agent
