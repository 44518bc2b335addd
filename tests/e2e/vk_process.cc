#include "e2e/vk_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace vk::e2e {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

void Pipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
}

[[noreturn]] void ExecChild(const std::vector<std::string>& argv, int in, int out, int err) {
  ::dup2(in, 0);
  ::dup2(out, 1);
  ::dup2(err, 2);
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  ::execvp(args[0], args.data());
  ::_exit(127);
}

void WriteFile(const fs::path& path, const std::string& text, fs::perms perms) {
  std::ofstream(path) << text;
  fs::permissions(path, perms);
}

}  // namespace

ProcessResult RunProcess(const std::vector<std::string>& argv, const std::string& input,
                         std::chrono::seconds timeout) {
  int in[2], out[2], err[2];
  Pipe(in);
  Pipe(out);
  Pipe(err);
  auto start = Clock::now();
  pid_t pid = ::fork();
  if (pid == 0) ExecChild(argv, in[0], out[1], err[1]);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  ssize_t written = input.empty() ? 0 : ::write(in[1], input.data(), input.size());
  (void)written;
  ::close(in[1]);

  ProcessResult result;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open = 2;
  bool killed = false;
  while (open > 0) {
    auto left = timeout - (Clock::now() - start);
    if (left <= std::chrono::seconds(0) && !killed) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
    int ready = ::poll(fds, 2, 200);
    if (ready < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[65536];
      ssize_t n = ::read(fds[i].fd, buffer, sizeof(buffer));
      if (n > 0) {
        sinks[i]->append(buffer, n);
      } else {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open;
      }
    }
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  return result;
}

ProcessResult RunVk(const std::vector<std::string>& args, const std::string& input,
                    std::chrono::seconds timeout) {
  constexpr std::chrono::seconds kReportMargin(120);
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] != "--boot-timeout") continue;
    timeout = std::max(timeout, std::chrono::seconds(std::stol(args[i + 1])) + kReportMargin);
  }
  std::vector<std::string> argv{VK_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, input, timeout);
}

ScopedVm::~ScopedVm() { RunVk({"rm", "-f", name_}); }

BackgroundVk::BackgroundVk(const std::vector<std::string>& args) {
  pid_ = ::fork();
  if (pid_ != 0) return;
  int null = ::open("/dev/null", O_RDWR);
  std::vector<std::string> argv{VK_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  ExecChild(argv, null, null, null);
}

BackgroundVk::~BackgroundVk() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 50; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    ::usleep(100000);
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

uint16_t FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string EnsureDebianImage(const std::string& image, const std::string& packages) {
  if (RunVk({"image", "inspect", image}).exit_code == 0) return "";
  ProcessResult built = RunVk({"image", "from-debian", image, "--packages", packages}, "",
                              std::chrono::seconds(1200));
  return built.exit_code == 0 ? "" : built.err;
}

std::string VmDirectoryForTest(const std::string& name) {
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  if (runtime != nullptr && *runtime != '\0') return std::string(runtime) + "/virtkit/vms/" + name;
  const char* home = std::getenv("VIRTKIT_HOME");
  if (home != nullptr && *home != '\0') return std::string(home) + "/vms/" + name;
  return std::string(std::getenv("HOME")) + "/.local/share/virtkit/vms/" + name;
}

namespace {

// The number after `"key": ` in a vm.json, or 0.
long JsonNumber(const std::string& json, const std::string& key) {
  size_t at = json.find("\"" + key + "\":");
  if (at == std::string::npos) return 0;
  return std::strtol(json.c_str() + at + key.size() + 3, nullptr, 10);
}

}  // namespace

namespace {

// The resident KiB of the first window of adjacent mappings ({size, rss}
// each) that together are `kib` long, or 0.
long ResidentOfWindow(const std::vector<std::pair<long, long>>& run, long kib) {
  for (size_t i = 0; i < run.size(); ++i) {
    long size = 0, resident = 0;
    for (size_t j = i; j < run.size() && size < kib; ++j) {
      size += run[j].first;
      resident += run[j].second;
    }
    if (size == kib) return resident;
  }
  return 0;
}

}  // namespace

VmmMemory VmmMemoryOf(const std::string& name) {
  std::ifstream record(VmDirectoryForTest(name) + "/vm.json");
  std::string json((std::istreambuf_iterator<char>(record)), {});
  long pid = JsonNumber(json, "pid");
  long memory_kib = JsonNumber(json, "memory_bytes") / 1024;
  VmmMemory memory;
  if (pid <= 0) return memory;
  // A booted guest's RAM (below 3 GiB) is one anonymous mapping, split where
  // it asked for huge pages, maybe right after a thread's stack: a window of
  // adjacent read-write anonymous mappings of the guest's size.
  std::vector<std::pair<long, long>> run;  // {size, rss} KiB
  std::string run_end;
  auto end_run = [&] {
    memory.guest_kib += ResidentOfWindow(run, memory_kib);
    run.clear();
    run_end.clear();
  };
  bool anonymous = false, memory_file = false;
  std::ifstream smaps("/proc/" + std::to_string(pid) + "/smaps");
  for (std::string line; std::getline(smaps, line);) {
    std::istringstream fields(line);
    std::string first;
    long kib = 0;
    fields >> first;
    if (first == "Size:" && (fields >> kib) && anonymous) {
      run.back().first = kib;
    } else if (first == "Rss:" && (fields >> kib)) {
      memory.rss_kib += kib;
      if (memory_file) memory.guest_kib += kib;
      if (anonymous) run.back().second = kib;
    } else if (first.find('-') != std::string::npos && first.back() != ':') {
      std::string permissions, offset, device, inode, path;
      fields >> permissions >> offset >> device >> inode >> path;
      size_t dash = first.find('-');
      anonymous = path.empty() && permissions == "rw-p";
      memory_file = path.size() >= 7 && path.compare(path.size() - 7, 7, "/memory") == 0;
      if (!anonymous || first.substr(0, dash) != run_end) end_run();
      if (anonymous) {
        run_end = first.substr(dash + 1);
        run.emplace_back(0, 0);
      }
    }
  }
  end_run();
  return memory;
}

std::string KvmUnavailableReason() {
  int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) return std::string("cannot open /dev/kvm: ") + std::strerror(errno);
  ::close(fd);
  return "";
}

std::vector<std::string> QemuMicrovmCommand(const std::string& assets, const std::string& disk,
                                            const std::string& params,
                                            const std::vector<std::string>& devices,
                                            bool shared_memory) {
  const bool pvm = fs::exists("/sys/module/kvm_pvm");
  // acpi=off: our kernel finds virtio-mmio devices on its command line.
  std::vector<std::string> argv = {
      "qemu-system-x86_64",
      "-M",
      std::string("microvm,acpi=off") + (shared_memory ? ",memory-backend=mem" : ""),
      "-enable-kvm",
      "-cpu",
      pvm ? "EPYC-Rome" : "host",  // `-cpu host` fails on PVM (MSR 0x10a)
      "-m",
      "256M",
      "-nodefaults",
      "-no-user-config",
      "-nographic",
      "-serial",
      "stdio",
      "-kernel",
      assets + "/vmlinux",
      "-initrd",
      assets + "/initramfs.cpio",
      "-append",
      "console=ttyS0 reboot=t panic=-1 quiet vk.root=/dev/vda vk.ro=1 " + params +
          (pvm ? " noxsave clearcpuid=popcnt,smap nosmap tsc=reliable percpu_alloc=page vk.pvm=1"
               : ""),
      "-drive",
      "id=root,file=" + disk + ",format=raw,if=none,readonly=on",
      "-device",
      "virtio-blk-device,drive=root"};
  if (shared_memory) {
    argv.insert(argv.end(), {"-object", "memory-backend-memfd,id=mem,size=256M,share=on"});
  }
  argv.insert(argv.end(), devices.begin(), devices.end());
  argv.insert(argv.end(), {"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-no-reboot"});
  return argv;
}

std::string MakeBusyboxDisk(const TempDir& dir) {
  fs::path root = fs::path(dir.path()) / "rootfs";
  for (const char* sub : {"bin", "sbin", "etc", "dev", "proc", "sys", "tmp", "run", "root",
                          "newroot", "usr/bin", "usr/sbin"}) {
    fs::create_directories(root / sub);
  }
  fs::copy_file("/bin/busybox", root / "bin/busybox");
  ProcessResult applets = RunProcess({"/bin/busybox", "--list-full"});
  for (size_t pos = 0; pos < applets.out.size();) {
    size_t end = applets.out.find('\n', pos);
    std::string applet = applets.out.substr(pos, end - pos);
    pos = end == std::string::npos ? applets.out.size() : end + 1;
    if (applet.empty() || applet == "bin/busybox") continue;
    std::error_code ignored;
    fs::create_symlink("/bin/busybox", root / applet, ignored);
  }
  WriteFile(root / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n",
            fs::perms(0644));
  WriteFile(root / "etc/group", "root:x:0:\nnogroup:x:65534:\n", fs::perms(0644));
  fs::remove(root / "sbin/init");
  WriteFile(root / "sbin/init", "#!/bin/sh\necho DISK-INIT-RAN\npoweroff -f\n", fs::perms(0755));
  std::string image = (fs::path(dir.path()) / "busybox.ext4").string();
  ProcessResult made = RunProcess(
      {"mke2fs", "-q", "-F", "-t", "ext4", "-d", root.string(), "-L", "busybox", image, "32M"});
  if (made.exit_code != 0) throw std::runtime_error("mke2fs failed: " + made.err);
  return image;
}

std::string PsLineOf(const std::string& name) {
  ProcessResult ps = RunVk({"ps"});
  size_t at = ps.out.find(name + " ");
  if (at == std::string::npos) return "";
  return ps.out.substr(at, ps.out.find('\n', at) - at);
}

}  // namespace vk::e2e
