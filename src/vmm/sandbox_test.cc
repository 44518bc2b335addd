// Each test confines a child process (gtest death tests re-execute the
// binary) and checks it either finishes its work or dies by SIGSYS: the
// parent test process itself is never filtered.
#include "vmm/sandbox.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/kvm.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/event_loop.h"
#include "virtio/fs/fs_test_harness.h"
#include "virtio/testing/fake_virtqueue.h"
#include "virtio/vsock/vsock_device.h"
#include "vmm/machine.h"
#include "vmm/testing/tiny_elf.h"

namespace vk::sandbox {
namespace {

using ::testing::ExitedWithCode;
using ::testing::KilledBySignal;

class SandboxTest : public ::testing::Test {
 protected:
  // Forking a process with threads is unsafe; "threadsafe" re-executes the
  // test binary for each death test instead.
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

void Confine(ThreadRole role, Mode mode = Mode::kEnforce) {
  auto confined = ConfineThisThread(role, mode);
  if (!confined.ok()) {
    std::fprintf(stderr, "%s\n", confined.error().message().c_str());
    std::_Exit(100);
  }
}

TEST(SandboxModeTest, ReadsVirtkitSeccomp) {
  ::unsetenv("VIRTKIT_SECCOMP");
  EXPECT_EQ(ModeFromEnvironment().value(), Mode::kEnforce);
  ::setenv("VIRTKIT_SECCOMP", "log", 1);
  EXPECT_EQ(ModeFromEnvironment().value(), Mode::kLog);
  ::setenv("VIRTKIT_SECCOMP", "off", 1);
  EXPECT_EQ(ModeFromEnvironment().value(), Mode::kOff);
  ::setenv("VIRTKIT_SECCOMP", "lax", 1);
  EXPECT_FALSE(ModeFromEnvironment().ok());
  ::unsetenv("VIRTKIT_SECCOMP");
}

[[noreturn]] void ExecFromDeviceThread() {
  Confine(ThreadRole::kDevice);
  char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
  ::execve("/bin/true", argv, environ);
  std::_Exit(1);  // not reached: exec is forbidden, and /bin/true exits 0
}

TEST_F(SandboxTest, DeviceThreadCannotExec) {
  EXPECT_EXIT(ExecFromDeviceThread(), KilledBySignal(SIGSYS), "");
}

// What --vmm qemu's back-end thread does: maps guest memory QEMU sends as
// an fd, sets its connection's timeouts and activates virtio-vsock, which
// makes the host listeners. Exits 0 when all of it was allowed.
[[noreturn]] void WorkLikeAVhostUserThread() {
  const int memory = ::memfd_create("guest", MFD_CLOEXEC);
  if (memory < 0 || ::ftruncate(memory, 1 << 20) != 0) std::_Exit(1);
  const std::string socket_path = "/tmp/vk-sandbox-" + std::to_string(::getpid()) + ".sock";
  Confine(ThreadRole::kVhostUser);
  void* ram = ::mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, memory, 0);
  if (ram == MAP_FAILED) std::_Exit(2);
  const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval timeout{};
  timeout.tv_sec = 5;
  if (listener < 0 ||
      ::setsockopt(listener, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) != 0)
    std::_Exit(4);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  socket_path.copy(address.sun_path, sizeof(address.sun_path) - 1);
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) ||
      ::chmod(socket_path.c_str(), 0600) != 0 || ::listen(listener, 4) != 0)
    std::_Exit(5);
  ::unlink(socket_path.c_str());
  if (::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC) < 0) std::_Exit(6);
  std::_Exit(0);
}

[[noreturn]] void ExecFromVhostUserThread() {
  Confine(ThreadRole::kVhostUser);
  char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
  ::execve("/bin/true", argv, environ);
  std::_Exit(1);
}

// --vmm qemu's back-end thread may do its work, but still runs no program.
TEST_F(SandboxTest, VhostUserThreadMapsSharedMemoryAndMakesVsockListeners) {
  EXPECT_EXIT(WorkLikeAVhostUserThread(), ExitedWithCode(0), "");
  EXPECT_EXIT(ExecFromVhostUserThread(), KilledBySignal(SIGSYS), "");
}

TEST_F(SandboxTest, DeviceThreadCannotOpenInternetSockets) {
  EXPECT_EXIT(
      {
        Confine(ThreadRole::kDevice);
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        std::_Exit(fd >= 0 ? 0 : 1);
      },
      KilledBySignal(SIGSYS), "");
}

TEST_F(SandboxTest, LogModeLetsTheForbiddenCallThrough) {
  EXPECT_EXIT(
      {
        Confine(ThreadRole::kDevice, Mode::kLog);
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        std::_Exit(fd >= 0 ? 0 : 1);
      },
      ExitedWithCode(0), "");
}

TEST_F(SandboxTest, NoThreadMapsExecutableMemory) {
  EXPECT_EXIT(
      {
        Confine(ThreadRole::kNetEgress);
        void* ok =
            ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (ok == MAP_FAILED) std::_Exit(1);
        ::mprotect(ok, 4096, PROT_READ | PROT_EXEC);
        std::_Exit(2);
      },
      KilledBySignal(SIGSYS), "");
}

// Opens are refused with EACCES, not a kill: glibc's malloc opens
// /proc/sys/vm/overcommit_memory once from whichever thread first shrinks
// an arena heap, and copes with a refusal.
TEST_F(SandboxTest, VcpuThreadCannotOpenFiles) {
  EXPECT_EXIT(
      {
        Confine(ThreadRole::kVcpu);
        int fd = ::open("/etc/hostname", O_RDONLY | O_CLOEXEC);
        std::_Exit(fd < 0 && errno == EACCES ? 3 : 0);
      },
      ::testing::ExitedWithCode(3), "");
}

// A console port on a host terminal reads its size for the guest's hvc
// from the device loop or a vCPU thread (TIOCGWINSZ), and nothing else of a
// terminal's ioctls: setting the size stays forbidden.
TEST_F(SandboxTest, DeviceAndVcpuThreadsMayReadATerminalsSizeOnly) {
  for (ThreadRole role : {ThreadRole::kDevice, ThreadRole::kVcpu, ThreadRole::kVhostUser}) {
    EXPECT_EXIT(
        {
          Confine(role);
          winsize size{};
          // Allowed: reaches the kernel and fails on the bad fd.
          std::_Exit(::ioctl(-1, TIOCGWINSZ, &size) == -1 && errno == EBADF ? 0 : 1);
        },
        ExitedWithCode(0), "");
    EXPECT_EXIT(
        {
          Confine(role);
          winsize size{};
          std::_Exit(::ioctl(-1, TIOCSWINSZ, &size) == -1 ? 2 : 3);
        },
        KilledBySignal(SIGSYS), "");
  }
}

TEST_F(SandboxTest, VcpuThreadMayEnterKvmRun) {
  EXPECT_EXIT(
      {
        Confine(ThreadRole::kVcpu);
        // Allowed: reaches the kernel and fails on the bad fd.
        std::_Exit(::ioctl(-1, KVM_RUN, 0) == -1 && errno == EBADF ? 0 : 1);
      },
      ExitedWithCode(0), "");
}

TEST_F(SandboxTest, VcpuThreadCannotReconfigureTheVm) {
  EXPECT_EXIT(
      {
        Confine(ThreadRole::kVcpu);
        kvm_regs regs{};
        ::ioctl(-1, KVM_SET_REGS, &regs);  // not a run-loop request
        std::_Exit(0);
      },
      KilledBySignal(SIGSYS), "");
}

// virtio-vsock's Activate and Reset run on the vCPU thread that wrote
// DRIVER_OK or 0 to the status register.
[[noreturn]] void ActivateVsockFromVcpuThread(const std::string& dir) {
  auto loop = EventLoop::Create();
  virtio::VsockConfig config;
  config.uds_path = dir + "/vsock.sock";
  config.port_sockets = {{dir + "/exec.sock", 4444}};
  auto device = virtio::CreateVsockDevice(config);
  if (!loop.ok() || !device.ok()) std::_Exit(1);
  virtio::testing::FakeGuest guest(1 << 20);
  std::vector<virtio::Queue> queues;
  for (uint16_t size : (*device)->queue_max_sizes()) queues.emplace_back(size);
  virtio::testing::FakeDeviceContext context(guest, queues, loop->get());
  // Through Enable(): Landlock (where the kernel has it) must allow the
  // sockets in the run directory too.
  if (!Enable(Mode::kEnforce, {.run_dir = dir}).ok()) std::_Exit(100);
  EnterThreadRole(ThreadRole::kVcpu);
  if (!(*device)->Activate(context.context).ok()) std::_Exit(2);
  (*device)->Reset();
  std::_Exit(0);
}

TEST_F(SandboxTest, VcpuThreadActivatesAndResetsVsock) {
  virtio::fs::testing::TempDir dir;
  EXPECT_EXIT(ActivateVsockFromVcpuThread(dir.path()), ExitedWithCode(0), "");
}

TEST_F(SandboxTest, NetEgressThreadUsesUdp) {
  EXPECT_EXIT(
      {
        Confine(ThreadRole::kNetEgress);
        int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof(address);
        if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
          std::_Exit(1);
        }
        char byte = 'x';
        ::sendto(fd, &byte, 1, 0, reinterpret_cast<sockaddr*>(&address), length);
        int queued = 0;
        if (::ioctl(fd, FIONREAD, &queued) != 0 || queued != 1) std::_Exit(2);
        std::_Exit(::recvfrom(fd, &byte, 1, 0, nullptr, nullptr) == 1 ? 0 : 3);
      },
      ExitedWithCode(0), "");
}

TEST_F(SandboxTest, SessionThreadCannotCreateSockets) {
  EXPECT_EXIT(
      {
        Confine(ThreadRole::kSession);
        winsize size{};
        ::ioctl(STDIN_FILENO, TIOCGWINSZ, &size);  // allowed, whatever stdin is
        ::socket(AF_UNIX, SOCK_STREAM, 0);
        std::_Exit(0);
      },
      KilledBySignal(SIGSYS), "");
}

// The FUSE passthrough's whole repertoire, from the device thread's filter.
int RunFuseSession(virtio::fs::testing::FsHarness& fs) {
  using virtio::fs::testing::Req;
  if (fs.Init().error != 0) return 10;
  if (fs.Mkdir(FUSE_ROOT_ID, "dir").error != 0) return 11;
  auto created = fs.Create(FUSE_ROOT_ID, "file");
  if (created.error != 0) return 12;
  auto node = created.As<fuse_entry_out>(0).nodeid;
  auto fh = created.As<fuse_open_out>(sizeof(fuse_entry_out)).fh;
  std::vector<uint8_t> data(100, 'a');
  if (fs.Write(fh, 0, data).error != 0) return 13;
  if (fs.Read(fh, 0, 100).body.size() != 100) return 14;
  if (fs.Call(Req(FUSE_FSYNC, node).Arg(fuse_fsync_in{fh, 0, 0})).error != 0) return 15;
  fuse_fallocate_in allocate{fh, 0, 4096, 0, 0};
  if (fs.Call(Req(FUSE_FALLOCATE, node).Arg(allocate)).error != 0) return 16;
  fuse_lseek_in seek{fh, 0, SEEK_DATA, 0};
  if (fs.Call(Req(FUSE_LSEEK, node).Arg(seek)).error != 0) return 17;
  if (fs.Release(fh).error != 0) return 18;
  fuse_setattr_in setattr{};
  setattr.valid = FATTR_MODE | FATTR_SIZE | FATTR_MTIME;
  setattr.mode = 0600;
  setattr.size = 10;
  if (fs.Call(Req(FUSE_SETATTR, node).Arg(setattr)).error != 0) return 19;
  if (fs.Call(Req(FUSE_ACCESS, node).Arg(fuse_access_in{4, 0})).error != 0) return 20;
  if (fs.Call(Req(FUSE_STATFS, node)).error != 0) return 21;
  if (fs.Call(Req(FUSE_SYMLINK, FUSE_ROOT_ID).Str("link").Str("file")).error != 0) return 22;
  fuse_link_in link{node};
  if (fs.Call(Req(FUSE_LINK, FUSE_ROOT_ID).Arg(link).Str("hard")).error != 0) return 23;
  fuse_rename2_in rename{FUSE_ROOT_ID, 0, 0};
  if (fs.Call(Req(FUSE_RENAME2, FUSE_ROOT_ID).Arg(rename).Str("hard").Str("moved")).error != 0) {
    return 24;
  }
  fuse_getxattr_in listxattr{0, 0};
  if (fs.Call(Req(FUSE_LISTXATTR, node).Arg(listxattr)).error != 0) return 25;
  auto dir = fs.Call(Req(FUSE_OPENDIR, FUSE_ROOT_ID).Arg(fuse_open_in{}));
  if (dir.error != 0) return 26;
  fuse_read_in readdir{};
  readdir.fh = dir.As<fuse_open_out>(0).fh;
  readdir.size = 4096;
  if (fs.Call(Req(FUSE_READDIRPLUS, FUSE_ROOT_ID).Arg(readdir)).error != 0) return 27;
  if (fs.Release(readdir.fh, FUSE_RELEASEDIR).error != 0) return 28;
  if (fs.Call(Req(FUSE_UNLINK, FUSE_ROOT_ID).Str("moved")).error != 0) return 29;
  if (fs.Call(Req(FUSE_RMDIR, FUSE_ROOT_ID).Str("dir")).error != 0) return 30;
  return 0;
}

[[noreturn]] void ServeFuseFromDeviceThread(const std::string& dir) {
  virtio::fs::testing::FsHarness fs({.shared_dir = dir, .tag = "share"});
  Confine(ThreadRole::kDevice);
  std::_Exit(RunFuseSession(fs));
}

TEST_F(SandboxTest, DeviceThreadServesVirtioFs) {
  virtio::fs::testing::TempDir dir;
  EXPECT_EXIT(ServeFuseFromDeviceThread(dir.path()), ExitedWithCode(0), "");
}

// Enable() with a share: the device thread serves it under both Landlock
// and its filter, and reaches nothing else by path.
[[noreturn]] void ServeShareUnderLandlock(const std::string& dir) {
  virtio::fs::testing::FsHarness fs({.shared_dir = dir, .tag = "share"});
  ServedPaths paths;
  paths.shares.push_back({dir, PathAccess::kReadWrite});
  if (!Enable(Mode::kEnforce, paths).ok()) std::_Exit(100);
  EnterThreadRole(ThreadRole::kDevice);
  int outside = ::open("/etc/hostname", O_RDONLY | O_CLOEXEC);
  if (outside >= 0 || errno != EACCES) std::_Exit(101);
  std::_Exit(RunFuseSession(fs));
}

TEST_F(SandboxTest, LandlockLimitsTheDeviceThreadToItsShares) {
  if (LandlockAbi() == 0) GTEST_SKIP() << "no Landlock in this kernel";
  virtio::fs::testing::TempDir dir;
  EXPECT_EXIT(ServeShareUnderLandlock(dir.path()), ExitedWithCode(0), "");
}

// A read-only share: readable, but nothing can be created in it, whatever
// the FUSE server's own check says.
[[noreturn]] void WriteToReadOnlyRule(const std::string& dir) {
  auto ruleset = CreateLandlockRuleset({{dir, PathAccess::kReadOnly}});
  if (!ruleset.ok() || ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      !ApplyLandlock(ruleset->get()).ok()) {
    std::_Exit(100);
  }
  if (::open((dir + "/existing").c_str(), O_RDONLY | O_CLOEXEC) < 0) std::_Exit(1);
  if (::open((dir + "/new").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600) >= 0) std::_Exit(2);
  std::_Exit(errno == EACCES ? 0 : 3);
}

TEST_F(SandboxTest, LandlockReadOnlyShareRefusesWrites) {
  if (LandlockAbi() == 0) GTEST_SKIP() << "no Landlock in this kernel";
  virtio::fs::testing::TempDir dir;
  ASSERT_GE(::open((dir / "existing").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600), 0);
  EXPECT_EXIT(WriteToReadOnlyRule(dir.path()), ExitedWithCode(0), "");
}

// A real KVM guest under Enable(): vCPU and device threads confined from
// their first instruction to their exit, the kick signal and a deadline.
int BootSandboxed() {
  if (!Enable(Mode::kEnforce).ok()) return 10;
  int console[2];
  if (::pipe2(console, O_CLOEXEC | O_NONBLOCK) != 0) return 11;
  std::vector<uint8_t> print = testing::TinyElfKernel({
      0x66, 0xba, 0xf8, 0x03,  // mov dx, 0x3f8
      0xb0, 'o', 0xee,         // mov al, 'o'; out dx, al
      0xb0, '\n', 0xee,        // mov al, '\n'; out dx, al
      0xb0, 0x07, 0xe6, 0xf4,  // mov al, 7; out 0xf4, al
      0xf4,                    // hlt
  });
  std::vector<uint8_t> spin = testing::TinyElfKernel({0xeb, 0xfe});  // jmp $
  for (const auto* kernel : {&print, &spin}) {
    MachineConfig config;
    config.kernel = *kernel;
    config.memory_bytes = 64ull << 20;
    config.console_fd = console[1];
    auto machine = Machine::Create(config);
    if (!machine.ok() || !(*machine)->Start().ok()) return 12;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    MachineExit exit = (*machine)->Wait(deadline);
    bool expected = kernel == &print ? exit.kind == ExitKind::kPowerOff && exit.status == 7
                                     : exit.kind == ExitKind::kTimeout;
    if (!expected) return 13;
  }
  char output[8] = {};
  return ::read(console[0], output, sizeof(output)) == 2 && output[0] == 'o' ? 0 : 14;
}

TEST_F(SandboxTest, KvmGuestRunsUnderTheSandbox) {
  if (::access("/dev/kvm", R_OK | W_OK) != 0) GTEST_SKIP() << "needs /dev/kvm";
  EXPECT_EXIT(std::_Exit(BootSandboxed()), ExitedWithCode(0), "");
}

}  // namespace
}  // namespace vk::sandbox
