// Helpers for end-to-end tests: run the built `vk` as a user would and
// capture what it prints, and build small guest disks.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/testing/temp_dir.h"

namespace vk::e2e {

struct ProcessResult {
  int exit_code = -1;  // 128+N when killed by signal N
  std::string out;
  std::string err;
  std::chrono::milliseconds elapsed{0};
};

// Runs `program args...`, feeding `input` on stdin; kills it after `timeout`.
ProcessResult RunProcess(const std::vector<std::string>& argv, const std::string& input = "",
                         std::chrono::seconds timeout = std::chrono::seconds(600));

// Runs the vk binary under test with `args`. A `-d` launch with
// `--boot-timeout B` gets at least B + 2 minutes, so vk reports its own
// timeout instead of being killed while the guest still boots.
ProcessResult RunVk(const std::vector<std::string>& args, const std::string& input = "",
                    std::chrono::seconds timeout = std::chrono::seconds(600));

// A named VM removed (`vk rm -f`) when the guard goes out of scope, so a
// failed ASSERT never leaves a VMM behind holding ctest's output pipe.
class ScopedVm {
 public:
  explicit ScopedVm(std::string name) : name_(std::move(name)) {}
  ~ScopedVm();
  ScopedVm(const ScopedVm&) = delete;
  ScopedVm& operator=(const ScopedVm&) = delete;
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

// A background `vk` process (e.g. `vk switch`), its output discarded;
// SIGTERM, then SIGKILL after 5 s, and reaped when the guard goes.
class BackgroundVk {
 public:
  explicit BackgroundVk(const std::vector<std::string>& args);
  ~BackgroundVk();
  BackgroundVk(const BackgroundVk&) = delete;
  BackgroundVk& operator=(const BackgroundVk&) = delete;

 private:
  pid_t pid_ = -1;
};

// Where `vk` keeps a named VM's state (mirrors src/vmm/vm_state.cc).
std::string VmDirectoryForTest(const std::string& name);

// `name`'s line in `vk ps`, or "" when it is not listed.
std::string PsLineOf(const std::string& name);

// A running named VM's VMM memory (KiB), from its /proc/PID/smaps and
// vm.json, counted as VIRTKIT_STATS counts it: `guest` is the resident part
// of the guest's RAM (the template's memory file a restored VM maps, or the
// adjacent anonymous mappings of the VM's memory size a booted one has), the
// rest is the VMM's overhead. All zero when the VM or its process is not
// found.
struct VmmMemory {
  long rss_kib = 0;
  long guest_kib = 0;
  long overhead_kib() const { return rss_kib - guest_kib; }
};
VmmMemory VmmMemoryOf(const std::string& name);

// A TCP port on 127.0.0.1 that is free now.
uint16_t FreeLoopbackPort();

// Makes `image` with `vk image from-debian IMAGE --packages PACKAGES` in the
// current VIRTKIT_HOME unless it is there already; "" or what vk said.
std::string EnsureDebianImage(const std::string& image, const std::string& packages);

// Why KVM tests cannot run here, or "" when /dev/kvm is usable.
std::string KvmUnavailableReason();

// A fresh temporary directory, removed by the destructor without following
// symlinks out of it (base/testing/temp_dir.h).
using TempDir = vk::testing::TempTree;

// The command line of a QEMU microvm booting our guest (kernel and agent
// initramfs from `vk guest-assets ASSETS`) with `disk` as its read-only root
// (/dev/vda) and `params` (vk.* words) after the base kernel command line;
// `devices` are appended. On PVM hosts it adds the kernel switches and CPU
// model that work there (kernel/README.md). `shared_memory`: guest RAM is
// a shared memfd, as vhost-user back ends need. Ends with the exit device
// our kernel powers off through (0xf4).
std::vector<std::string> QemuMicrovmCommand(const std::string& assets, const std::string& disk,
                                            const std::string& params,
                                            const std::vector<std::string>& devices,
                                            bool shared_memory = false);

// Builds an ext4 root with Debian's busybox-static (every applet linked) plus
// /etc/passwd, /etc/group and an /sbin/init that powers the VM off. Returns
// the image path inside `dir`.
std::string MakeBusyboxDisk(const TempDir& dir);

}  // namespace vk::e2e
