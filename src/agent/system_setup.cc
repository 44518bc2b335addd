#include "agent/system_setup.h"

#include <fcntl.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string_view>
#include <vector>

#include "base/unique_fd.h"
#include "proto/str_format.h"

namespace vk::agent {

using proto::StrFormat;
namespace {

constexpr char kNewRoot[] = "/newroot";
// How long to wait for the root disk's device node: virtio devices probe
// before init runs, but devtmpfs may publish the node a moment later.
constexpr int kRootWaitTries = 50;
constexpr useconds_t kRootWaitStep = 100 * 1000;

struct MountSpec {
  const char* source;
  const char* target;
  const char* type;
  unsigned long flags;
  const char* data;
};

bool IsMountPoint(const char* path) {
  struct stat self {
  }, parent{};
  const std::string up = std::string(path) + "/..";
  return stat(path, &self) == 0 && stat(up.c_str(), &parent) == 0 && self.st_dev != parent.st_dev;
}

Result<void> MountOne(const MountSpec& spec) {
  if (IsMountPoint(spec.target)) return Ok();  // moved in from the initramfs
  if (mkdir(spec.target, 0755) < 0 && errno != EEXIST) {
    return Error::FromErrno(StrFormat("create mount point {}", spec.target));
  }
  if (mount(spec.source, spec.target, spec.type, spec.flags, spec.data) < 0) {
    return Error::FromErrno(StrFormat("mount {} on {}", spec.type, spec.target));
  }
  return Ok();
}

Result<void> WaitForDevice(const std::string& path) {
  if (path.rfind("/dev/", 0) != 0) return Ok();  // a tag (virtiofs) or pseudo source
  for (int i = 0; i < kRootWaitTries; ++i) {
    if (access(path.c_str(), F_OK) == 0) return Ok();
    usleep(kRootWaitStep);
  }
  return Error(StrFormat("root device {} did not appear (is the disk attached?)", path));
}

// Moves /dev, /proc and /sys under the new root, or detaches them when the
// new root has no such directory and cannot get one (read-only).
void MoveKernelFilesystems() {
  for (const char* path : {"/dev", "/proc", "/sys"}) {
    const std::string target = std::string(kNewRoot) + path;
    mkdir(target.c_str(), 0755);
    if (mount(path, target.c_str(), nullptr, MS_MOVE, nullptr) < 0) umount2(path, MNT_DETACH);
  }
}

}  // namespace

void ConsoleLine(const std::string& message) {
  const std::string line = "vk-agent: " + message + "\n";
  UniqueFd console(open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC));
  (void)!write(console ? console.get() : STDERR_FILENO, line.data(), line.size());
}

Result<void> MountEarlyFilesystems() {
  const MountSpec specs[] = {
      {"proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr},
      {"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr},
      {"devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755"},
  };
  for (const auto& spec : specs) VK_TRY(MountOne(spec));
  return Ok();
}

// The kernel's block file systems (those /proc/filesystems does not mark
// "nodev"), for vk.rootfstype=auto.
static std::vector<std::string> BlockFilesystems() {
  std::vector<std::string> types;
  std::ifstream list("/proc/filesystems");
  for (std::string line; std::getline(list, line);) {
    if (line.rfind("nodev", 0) == 0) continue;
    const size_t start = line.find_first_not_of(" \t");
    if (start != std::string::npos) types.push_back(line.substr(start));
  }
  return types;
}

Result<void> MountRootDisk(const InitParams& params, const char* target) {
  VK_TRY(WaitForDevice(params.root));
  mkdir(target, 0755);
  const unsigned long flags = params.read_only ? MS_RDONLY : 0;
  // A read-only ext4 must not need its journal replayed (that is a write):
  // `noload` mounts it as it is, as a shared read-only base should be.
  std::string data = params.root_options;
  if (params.read_only && params.root_fstype == "ext4" && data.empty()) data = "noload";
  const std::vector<std::string> types =
      params.root_fstype == "auto" ? BlockFilesystems() : std::vector{params.root_fstype};
  for (const std::string& type : types) {
    if (mount(params.root.c_str(), target, type.c_str(), flags,
              data.empty() ? nullptr : data.c_str()) == 0)
      return Ok();
  }
  return Error::FromErrno(StrFormat("mount root {} ({}{})", params.root, params.root_fstype,
                                    params.read_only ? ", read-only" : ""));
}

// vk run's root: the image's base (never written, shared by every VM of the
// image) under an overlayfs whose upper layer lives on the VM's scratch disk.
Result<void> MountOverlayRoot(const InitParams& params) {
  constexpr char kLower[] = "/lower", kScratch[] = "/scratch";
  VK_TRY(MountRootDisk(params, kLower));
  VK_TRY(WaitForDevice(params.overlay));
  mkdir(kScratch, 0755);
  // The host writes scratch disks with uninitialised inode tables (that is
  // what makes them O(1)); without noinit_itable the kernel's ext4lazyinit
  // thread would zero all of them (1 GiB for 64 GiB) on the guest's vCPU.
  if (mount(params.overlay.c_str(), kScratch, "ext4", 0, "noinit_itable") < 0)
    return Error::FromErrno(StrFormat("mount scratch disk {}", params.overlay));
  for (const char* dir : {"/scratch/upper", "/scratch/work"}) {
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
      return Error::FromErrno(StrFormat("mkdir {}", dir));
  }
  mkdir(kNewRoot, 0755);
  const char* options = "lowerdir=/lower,upperdir=/scratch/upper,workdir=/scratch/work";
  if (mount("overlay", kNewRoot, "overlay", 0, options) < 0)
    return Error::FromErrno("mount the overlay root (base + scratch disk)");
  return Ok();
}

Result<void> SwitchToRootDisk(const InitParams& params) {
  if (params.overlay.empty()) {
    VK_TRY(MountRootDisk(params, kNewRoot));
  } else {
    VK_TRY(MountOverlayRoot(params));
  }
  MoveKernelFilesystems();
  if (chdir(kNewRoot) < 0) return Error::FromErrno("chdir /newroot");
  if (mount(".", "/", nullptr, MS_MOVE, nullptr) < 0) return Error::FromErrno("move root to /");
  if (chroot(".") < 0) return Error::FromErrno("chroot into the root disk");
  if (chdir("/") < 0) return Error::FromErrno("chdir /");
  return Ok();
}

Result<void> MountSystemFilesystems(bool host_dir_root) {
  constexpr unsigned long kSafe = MS_NOSUID | MS_NODEV;
  VK_TRY(MountOne({"proc", "/proc", "proc", kSafe | MS_NOEXEC, nullptr}));
  VK_TRY(MountOne({"devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755"}));
  const MountSpec optional[] = {
      {"sysfs", "/sys", "sysfs", kSafe | MS_NOEXEC, nullptr},
      {"devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
       "newinstance,ptmxmode=0666,mode=0620"},
      {"shm", "/dev/shm", "tmpfs", kSafe, "mode=1777"},
      {"tmpfs", "/tmp", "tmpfs", kSafe, "mode=1777"},
      {"tmpfs", "/run", "tmpfs", kSafe, "mode=0755"},
  };
  for (const auto& spec : optional) {
    const std::string_view target = spec.target;
    if (host_dir_root && (target == "/tmp" || target == "/run")) continue;
    if (auto mounted = MountOne(spec); !mounted.ok())
      ConsoleLine("warning: " + mounted.error().message());
  }
  // Only kernels built with cgroups have this directory; no warning otherwise.
  if (access("/sys/fs/cgroup", F_OK) == 0) {
    if (auto mounted =
            MountOne({"cgroup2", "/sys/fs/cgroup", "cgroup2", kSafe | MS_NOEXEC, nullptr});
        !mounted.ok()) {
      ConsoleLine("warning: " + mounted.error().message());
    }
  }
  // Links that shells and many programs expect; devtmpfs does not make them.
  symlink("/proc/self/fd", "/dev/fd");
  symlink("/proc/self/fd/0", "/dev/stdin");
  symlink("/proc/self/fd/1", "/dev/stdout");
  symlink("/proc/self/fd/2", "/dev/stderr");
  return Ok();
}

Result<void> MakeDirectories(const std::string& path) {
  for (size_t slash = 1; slash != std::string::npos;) {
    slash = path.find('/', slash + 1);
    std::string prefix = path.substr(0, slash);
    if (mkdir(prefix.c_str(), 0755) < 0 && errno != EEXIST)
      return Error::FromErrno(StrFormat("create {}", prefix));
  }
  return Ok();
}

// docker's /etc/hostname and /etc/hosts, so `hostname -f`, sudo and
// resolvers that look up the machine's own name work.
Result<void> WriteEtcFiles(const std::string& hostname) {
  auto put = [](const char* path, const std::string& text) -> Result<void> {
    unlink(path);  // may be a symlink into the image; never write through it
    UniqueFd fd(open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
      return Error::FromErrno(StrFormat("write {}", path));
    return Ok();
  };
  VK_TRY(MakeDirectories("/etc"));
  VK_TRY(put("/etc/hostname", hostname + "\n"));
  VK_TRY(put("/etc/hosts",
             "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
             "127.0.1.1\t" +
                 hostname + "\n"));
  return Ok();
}

Result<void> SetHostname(const std::string& hostname) {
  if (sethostname(hostname.data(), hostname.size()) < 0) {
    return Error::FromErrno(StrFormat("set hostname {}", hostname));
  }
  return Ok();
}

Result<void> BringUpLoopback() {
  UniqueFd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) return Error::FromErrno("socket for loopback set-up");
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(sock.get(), SIOCGIFFLAGS, &request) < 0) return Error::FromErrno("read flags of lo");
  // The kernel gives lo 127.0.0.1/8 itself when it goes up.
  request.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(sock.get(), SIOCSIFFLAGS, &request) < 0) return Error::FromErrno("bring up lo");
  return Ok();
}

void PowerOffMachine() {
  // Remount the root read-only first: sync() alone leaves the ext4 journal
  // marked as needing recovery, and the next read-only boot then fails.
  sync();
  mount(nullptr, "/", nullptr, MS_REMOUNT | MS_RDONLY, nullptr);
  sync();
  reboot(RB_POWER_OFF);
}

}  // namespace vk::agent
