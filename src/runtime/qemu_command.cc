// How a QemuPlan becomes QEMU's argv (QEMU 7.2, `-M microvm`).
//
// Quoting. Most option values are QEMU option strings, split on ',' into
// key=value pairs; a literal ',' in a value is written ",," (QEMU's only
// escape). Every value we embed in such a string that the user or the run
// directory controls (paths, sockets, tags, the VM's name) is escaped:
//   -name, -drive file=, -chardev path=, -device tag=, -netdev addr.path=,
//   and the path in `-qmp unix:PATH,...` (parsed like -chardev).
// -kernel, -initrd and -append are plain strings in QEMU 7.2 (vl.c puts them
// into the machine options as they are), so they are passed unescaped.
// -cpu is the caller's model and may carry features on purpose
// ("host,-pdpe1gb" in VIRTKIT_QEMU_CPU), so it is not escaped either.
// -name's value is "guest=NAME": the option's implied key is guest, but a
// bare name containing '=' would be read as a key of its own.
// A -drive file= whose ':' comes before any '/' is read as a protocol
// ("a:b.img": "Unknown protocol 'a'"), so such relative paths get "./".
//
// Refusals (ErrorKind::kUsage), for what QEMU cannot take or would take
// wrongly: memory that is zero or not whole MiB (-m and the memfd back end
// are given in MiB); zero CPUs; no CPU model, kernel, initrd, vsock socket or
// QMP socket; more virtio devices than microvm has slots
// (kMicrovmVirtioSlots); an empty virtio-fs tag or one over 36 bytes
// (kVirtioFsTagMax); an empty disk path or share socket; a NUL byte anywhere
// (argv strings end at the first NUL, so the guest would silently get less).
#include "runtime/qemu_command.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <optional>

#include "base/fd_io.h"
#include "base/pipe.h"
#include "base/spawn.h"
#include "base/unique_fd.h"

namespace vk {

namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr char kDefaultQemu[] = "qemu-system-x86_64";
// `--version` prints two short lines; more is not a QEMU.
constexpr size_t kMaxVersionOutput = 64 * 1024;
constexpr auto kVersionTimeout = std::chrono::seconds(10);
constexpr char kInstallHint[] =
    "--vmm qemu needs qemu-system-x86_64 7.2 or later (Debian: apt-get install qemu-system-x86)";

Error Usage(std::string message) { return Error(ErrorKind::kUsage, std::move(message)); }

// QEMU option strings: ',' separates pairs, ",," is a literal ','.
std::string Escape(std::string_view value) {
  std::string out;
  for (char c : value) {
    out += c;
    if (c == ',') out += ',';
  }
  return out;
}

// A -drive file= value QEMU will not take for "protocol:rest".
std::string DriveFile(const std::string& path) {
  size_t colon = path.find(':');
  bool looks_like_protocol = colon != std::string::npos && colon < path.find('/');
  return Escape(looks_like_protocol ? "./" + path : path);
}

std::string MacText(const std::array<uint8_t, 6>& mac) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", mac[0], mac[1], mac[2], mac[3],
                     mac[4], mac[5]);
}

// Every virtio-mmio device the plan adds: disks, shares, vsock, NIC, rng.
size_t VirtioDevices(const QemuPlan& plan) {
  return plan.disks.size() + plan.shares.size() + 1 + (plan.network_socket.empty() ? 0 : 1) + 1;
}

Result<void> CheckRequired(const QemuPlan& plan) {
  if (plan.memory_bytes == 0 || plan.memory_bytes % kMiB != 0)
    return Usage(
        fmt::format("memory must be a whole number of MiB, not {} bytes", plan.memory_bytes));
  if (plan.cpus == 0) return Usage("a VM needs at least 1 CPU");
  if (plan.cpu_model.empty()) return Usage("no QEMU CPU model given");
  if (plan.kernel.empty()) return Usage("no kernel image given");
  if (plan.initrd.empty()) return Usage("no initrd given");
  if (plan.vsock_socket.empty()) return Usage("no vhost-user vsock socket given");
  if (plan.qmp_socket.empty()) return Usage("no QMP socket given");
  if (plan.cmdline.find('\0') != std::string::npos)
    return Usage("the kernel command line contains a NUL byte");
  return Ok();
}

Result<void> CheckDevices(const QemuPlan& plan) {
  if (VirtioDevices(plan) > kMicrovmVirtioSlots)
    return Usage(fmt::format(
        "{} disks and {} shares need {} virtio devices with vsock, rng{}; QEMU microvm has {} "
        "virtio-mmio slots",
        plan.disks.size(), plan.shares.size(), VirtioDevices(plan),
        plan.network_socket.empty() ? "" : " and the NIC", kMicrovmVirtioSlots));
  for (const QemuDisk& disk : plan.disks)
    if (disk.path.empty()) return Usage("a disk has no path");
  for (const QemuShare& share : plan.shares) {
    if (share.socket.empty()) return Usage("share '" + share.tag + "' has no vhost-user socket");
    if (share.tag.empty()) return Usage("a virtio-fs share has an empty tag");
    if (share.tag.size() > kVirtioFsTagMax)
      return Usage(fmt::format("virtio-fs tag '{}' is {} bytes; the limit is {}", share.tag,
                               share.tag.size(), kVirtioFsTagMax));
  }
  return Ok();
}

using Argv = std::vector<std::string>;

void Add(Argv& argv, std::initializer_list<std::string> words) { argv.insert(argv.end(), words); }

void AddMachine(const QemuPlan& plan, Argv& argv) {
  std::string mib = std::to_string(plan.memory_bytes / kMiB) + "M";
  // acpi=off: the kernel finds the virtio-mmio devices on its command line,
  // which microvm appends itself only without ACPI.
  Add(argv, {"-M", "microvm,acpi=off,memory-backend=mem", "-enable-kvm"});
  Add(argv, {"-cpu", plan.cpu_model, "-smp", std::to_string(plan.cpus), "-m", mib});
  // share=on: vhost-user back ends (virtiofsd, vsock) map guest RAM.
  Add(argv, {"-object", "memory-backend-memfd,id=mem,size=" + mib + ",share=on"});
  // -nodefaults: no default NIC, serial, monitor, ...: every device is ours.
  Add(argv, {"-nodefaults", "-no-user-config", "-display", "none"});
  // A guest reset ends QEMU, as it ends a virtkit VM. -S: the guest waits
  // until vk is on QMP and says `cont`, so no event of its life is missed
  // (a SHUTDOWN decides what an exit status 0 means, qemu_exit.cc).
  Add(argv, {"-no-reboot", "-S"});
  // signal=off: ^C on the terminal reaches vk, not QEMU.
  Add(argv, {"-chardev", "stdio,id=con,signal=off", "-serial", "chardev:con"});
  // The control socket vk talks to (QEMU creates it and serves).
  Add(argv, {"-qmp", "unix:" + Escape(plan.qmp_socket) + ",server=on,wait=off"});
}

void AddBoot(const QemuPlan& plan, Argv& argv) {
  Add(argv, {"-kernel", plan.kernel, "-initrd", plan.initrd, "-append", plan.cmdline});
}

void AddStorage(const QemuPlan& plan, Argv& argv) {
  for (size_t i = 0; i < plan.disks.size(); ++i) {
    const QemuDisk& disk = plan.disks[i];
    std::string id = std::string("vd") + static_cast<char>('a' + i);
    std::string drive = "id=" + id + ",file=" + DriveFile(disk.path) + ",format=raw,if=none";
    if (disk.read_only) drive += ",readonly=on";
    Add(argv, {"-drive", drive, "-device", "virtio-blk-device,drive=" + id});
  }
  for (size_t i = 0; i < plan.shares.size(); ++i) {
    const QemuShare& share = plan.shares[i];
    std::string id = "fs" + std::to_string(i);
    Add(argv, {"-chardev", "socket,id=" + id + ",path=" + Escape(share.socket), "-device",
               "vhost-user-fs-device,chardev=" + id + ",tag=" + Escape(share.tag)});
  }
}

void AddDevices(const QemuPlan& plan, Argv& argv) {
  Add(argv, {"-chardev", "socket,id=vsock,path=" + Escape(plan.vsock_socket), "-device",
             "vhost-user-vsock-device,chardev=vsock"});
  if (!plan.network_socket.empty())
    Add(argv, {"-netdev",
               "stream,id=lan,server=off,addr.type=unix,addr.path=" + Escape(plan.network_socket),
               "-device", "virtio-net-device,netdev=lan,mac=" + MacText(plan.mac)});
  // The guest's entropy (the kernel's CRNG would otherwise wait at boot).
  Add(argv, {"-device", "virtio-rng-device"});
  // Our kernel patch writes the power-off status to port 0xf4; QEMU then
  // exits with (status << 1) | 1.
  Add(argv, {"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"});
}

}  // namespace

Result<std::vector<std::string>> QemuArgv(const QemuPlan& plan) {
  VK_TRY(CheckRequired(plan));
  VK_TRY(CheckDevices(plan));
  Argv argv{plan.binary};
  if (!plan.name.empty()) Add(argv, {"-name", "guest=" + Escape(plan.name)});
  AddMachine(plan, argv);
  AddBoot(plan, argv);
  AddStorage(plan, argv);
  AddDevices(plan, argv);
  for (size_t i = 1; i < argv.size(); ++i)
    if (argv[i].find('\0') != std::string::npos)
      return Usage("the QEMU argument after " + argv[i - 1] + " contains a NUL byte");
  return argv;
}

std::string QemuCpuModel(bool pvm, const char* override_env) {
  if (override_env != nullptr && *override_env != '\0') return override_env;
  return pvm ? "EPYC-Rome,check=off" : "host";
}

Result<QemuVersion> ParseQemuVersion(std::string_view version_output) {
  std::string_view line = version_output.substr(0, version_output.find('\n'));
  constexpr std::string_view kPrefix = "QEMU emulator version ";
  Error bad("not a QEMU version line: '" + std::string(line) + "'");
  if (!line.starts_with(kPrefix)) return bad;
  const char* at = line.data() + kPrefix.size();
  const char* end = line.data() + line.size();
  int parts[3];
  for (int i = 0; i < 3; ++i) {
    if (i > 0 && (at == end || *at++ != '.')) return bad;
    auto [next, ec] = std::from_chars(at, end, parts[i]);
    if (ec != std::errc() || parts[i] < 0) return bad;
    at = next;
  }
  if (at != end && *at != ' ') return bad;
  return QemuVersion{parts[0], parts[1], parts[2]};
}

namespace {

bool IsExecutableFile(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
}

// `name` in PATH, made absolute; empty if it is in none of it.
std::string SearchPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  for (;;) {
    size_t colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (IsExecutableFile(candidate)) return std::filesystem::absolute(candidate).string();
    if (colon == std::string_view::npos) return "";
    dirs.remove_prefix(colon + 1);
  }
}

// VIRTKIT_QEMU's program, else qemu-system-x86_64 from PATH.
Result<std::string> QemuBinary() {
  const char* env = std::getenv("VIRTKIT_QEMU");
  if (env == nullptr || *env == '\0') {
    std::string found = SearchPath(kDefaultQemu);
    if (found.empty())
      return Usage(std::string(kInstallHint) + "; none is in PATH; set VIRTKIT_QEMU to its path");
    return found;
  }
  std::string value = env;
  bool is_path = value.find('/') != std::string::npos;
  std::string found = is_path ? (IsExecutableFile(value) ? value : "") : SearchPath(value);
  if (found.empty())
    return Usage(
        fmt::format("VIRTKIT_QEMU={}: {}; set VIRTKIT_QEMU to the path of "
                    "qemu-system-x86_64 7.2 or later (Debian: apt-get install "
                    "qemu-system-x86)",
                    value, is_path ? "no such executable" : "not found in PATH"));
  return std::filesystem::absolute(found).string();
}

Result<std::string> ReadAllBefore(int fd, Deadline deadline) {
  std::string text;
  char buffer[4096];
  for (;;) {
    VK_TRY(WaitForFd(fd, POLLIN, deadline));
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno("read");
    if (n == 0) return text;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > kMaxVersionOutput) return Error("output too large");
  }
}

// `binary --version`'s output, if it succeeds.
Result<std::string> VersionOutput(const std::string& binary) {
  UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null) return Error::FromErrno("open /dev/null");
  auto [out, child_out] = VK_TRY(MakePipe());
  SpawnOptions options;
  options.stdio[0] = options.stdio[2] = null.get();
  options.stdio[1] = child_out.get();
  ChildProcess child(VK_TRY(SpawnProcess({binary, "--version"}, options)));
  child_out.Reset();  // EOF once the child exits
  Deadline deadline = std::chrono::steady_clock::now() + kVersionTimeout;
  std::string text = VK_TRY(ReadAllBefore(out.get(), deadline));
  std::optional<int> status = child.WaitUntil(deadline);
  if (!status) return Error(ErrorKind::kTimeout, "timed out");
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) return Error("failed");
  return text;
}

}  // namespace

Result<std::string> FindQemu() {
  std::string binary = VK_TRY(QemuBinary());
  std::string context = binary + " --version";
  std::string output = VK_TRY_CTX(VersionOutput(binary).WithKind(ErrorKind::kUsage), context);
  QemuVersion version = VK_TRY_CTX(ParseQemuVersion(output).WithKind(ErrorKind::kUsage), context);
  if (version.major < kQemuMinMajor ||
      (version.major == kQemuMinMajor && version.minor < kQemuMinMinor))
    return Usage(fmt::format("{}; found {}.{}.{} at {}; set VIRTKIT_QEMU to its path", kInstallHint,
                             version.major, version.minor, version.micro, binary));
  return binary;
}

}  // namespace vk
