#include "vmm/sandbox.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string_view>

#include "base/log.h"
#include "base/unique_fd.h"

namespace vk::sandbox {
namespace {

// Linux 6.6 / 5.8; older uapi headers lack the names (the fs passthrough
// calls them by number too).
constexpr int kNrFchmodat2 = 452;
constexpr int kNrFaccessat2 = 439;
// libseccomp API level 3 brings SCMP_ACT_KILL_PROCESS and SCMP_ACT_LOG.
constexpr unsigned kMinApiLevel = 3;

// What every role needs to be a thread at all: memory (never executable:
// no role maps code after start-up), locks, clocks, its own signals (the
// vCPU kick, abort()), logging to an fd it already has, and exiting.
constexpr std::initializer_list<int> kCommon = {
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(readv),
    SCMP_SYS(writev),
    SCMP_SYS(close),
    SCMP_SYS(futex),
    SCMP_SYS(sched_yield),
    SCMP_SYS(nanosleep),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_getres),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(getpid),
    SCMP_SYS(gettid),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(restart_syscall),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(madvise),
    SCMP_SYS(brk),
    SCMP_SYS(getrandom),
    // glibc's malloc sizes its arenas by the CPUs this thread may run on.
    SCMP_SYS(sched_getaffinity),
    // Who we are: every socket checks its peer's uid against ours.
    SCMP_SYS(getuid),
    SCMP_SYS(geteuid),
    SCMP_SYS(getgid),
    SCMP_SYS(getegid),
};

// vCPU threads: KVM_RUN and the exits it returns. Port I/O writes the serial
// console (write) and raises its IRQ (KVM_IRQ_LINE); an MMIO write of
// DRIVER_OK or a reset runs the device's Activate/Reset here, which for
// virtio-vsock creates and removes its host listening sockets (socket,
// bind, listen, unlink) and (un)registers fds with the device loop.
// ListenUnix makes each socket 0600 (chmod on its path) before listen.
// A queue notified without an ioeventfd is processed here too: TIOCGWINSZ
// for a console port's RESIZE (kDeviceIoctls).
constexpr std::initializer_list<int> kVcpu = {
    SCMP_SYS(epoll_ctl),
    SCMP_SYS(bind),
    SCMP_SYS(listen),
    SCMP_SYS(unlink),
    SCMP_SYS(unlinkat),
    SCMP_SYS(chmod),
    // Each vsock host listener has a back-off timer for EMFILE (HostListener).
    SCMP_SYS(timerfd_create),
};
constexpr std::initializer_list<unsigned long> kVcpuIoctls = {KVM_RUN, KVM_GET_REGS, KVM_IRQ_LINE,
                                                              TIOCGWINSZ};

// A console port on a host terminal tells the guest its size (RESIZE) from
// whichever thread handles the control queue or SIGWINCH's eventfd.
constexpr std::initializer_list<unsigned long> kDeviceIoctls = {TIOCGWINSZ};

// The device loop: epoll; virtio-blk (positioned vectored I/O, flush,
// discard); virtio-fs passthrough (the *at() family on pinned O_PATH fds,
// xattrs, copy_file_range...); virtio-vsock (connect to, accept on and
// stream over host unix sockets); the in-process network (its DNS
// upstream's UDP sockets and timer were opened during set-up).
constexpr std::initializer_list<int> kDevice = {
    SCMP_SYS(epoll_wait),  SCMP_SYS(epoll_pwait),     SCMP_SYS(epoll_ctl),
    SCMP_SYS(pread64),     SCMP_SYS(pwrite64),        SCMP_SYS(preadv),
    SCMP_SYS(pwritev),     SCMP_SYS(preadv2),         SCMP_SYS(pwritev2),
    SCMP_SYS(fsync),       SCMP_SYS(fdatasync),       SCMP_SYS(fallocate),
    SCMP_SYS(ftruncate),   SCMP_SYS(lseek),           SCMP_SYS(getdents64),
    SCMP_SYS(openat),      SCMP_SYS(newfstatat),      SCMP_SYS(fstat),
    SCMP_SYS(statx),       SCMP_SYS(readlinkat),      SCMP_SYS(mkdirat),
    SCMP_SYS(mknodat),     SCMP_SYS(symlinkat),       SCMP_SYS(linkat),
    SCMP_SYS(unlinkat),    SCMP_SYS(unlink),          SCMP_SYS(renameat),
    SCMP_SYS(renameat2),   SCMP_SYS(fchmod),          SCMP_SYS(fchmodat),
    kNrFchmodat2,          SCMP_SYS(faccessat),       kNrFaccessat2,
    SCMP_SYS(fchownat),    SCMP_SYS(fchown),          SCMP_SYS(utimensat),
    SCMP_SYS(fstatfs),     SCMP_SYS(fgetxattr),       SCMP_SYS(fsetxattr),
    SCMP_SYS(flistxattr),  SCMP_SYS(fremovexattr),    SCMP_SYS(copy_file_range),
    SCMP_SYS(flock),       SCMP_SYS(fcntl),           SCMP_SYS(connect),
    SCMP_SYS(accept),      SCMP_SYS(accept4),         SCMP_SYS(sendto),
    SCMP_SYS(recvfrom),    SCMP_SYS(sendmsg),         SCMP_SYS(recvmsg),
    SCMP_SYS(shutdown),    SCMP_SYS(getsockopt),      SCMP_SYS(bind),
    SCMP_SYS(getsockname), SCMP_SYS(timerfd_settime), SCMP_SYS(timerfd_gettime),
};

// What a vhost-user loop needs beyond kDevice: vsock's Activate (kVcpu's
// listener calls that kDevice lacks), and the send/receive timeouts each
// front-end connection gets (SO_SNDTIMEO/SO_RCVTIMEO, vhost_user/backend.cc).
constexpr std::initializer_list<int> kVhostUserExtra = {
    SCMP_SYS(listen),
    SCMP_SYS(chmod),
    SCMP_SYS(timerfd_create),
    SCMP_SYS(setsockopt),
};

// libslirp: the guest's TCP/UDP/ICMP flows as host sockets (and its unix
// guestfwd for DNS over TCP), port forwards' listeners, poll.
constexpr std::initializer_list<int> kNetEgress = {
    SCMP_SYS(poll),       SCMP_SYS(ppoll),       SCMP_SYS(connect),     SCMP_SYS(bind),
    SCMP_SYS(listen),     SCMP_SYS(accept),      SCMP_SYS(accept4),     SCMP_SYS(sendto),
    SCMP_SYS(recvfrom),   SCMP_SYS(sendmsg),     SCMP_SYS(recvmsg),     SCMP_SYS(setsockopt),
    SCMP_SYS(getsockopt), SCMP_SYS(getsockname), SCMP_SYS(getpeername), SCMP_SYS(shutdown),
    SCMP_SYS(fcntl),      SCMP_SYS(newfstatat),  SCMP_SYS(fstat),
};
// TCGETS: glib's log writer asks isatty(stderr) before a slirp warning.
constexpr std::initializer_list<unsigned long> kNetEgressIoctls = {FIONREAD, FIONBIO, TCGETS};

// The command session: accept the agent's connection, then shuttle stdio
// and frames with poll; a tty in raw mode and its window size.
// getsockopt: SO_PEERCRED, only our own uid's connection is served.
constexpr std::initializer_list<int> kSession = {
    SCMP_SYS(getsockopt), SCMP_SYS(poll),     SCMP_SYS(ppoll),    SCMP_SYS(accept),
    SCMP_SYS(accept4),    SCMP_SYS(sendto),   SCMP_SYS(recvfrom), SCMP_SYS(sendmsg),
    SCMP_SYS(recvmsg),    SCMP_SYS(shutdown), SCMP_SYS(fcntl),    SCMP_SYS(newfstatat),
    SCMP_SYS(fstat),
};
constexpr std::initializer_list<unsigned long> kSessionIoctls = {TCGETS, TCSETS, TCSETSW, TCSETSF,
                                                                 TIOCGWINSZ};

struct ContextDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Context = std::unique_ptr<void, ContextDeleter>;

Result<void> Check(int rc, std::string_view what) {
  if (rc < 0) return Error::FromErrno("seccomp: " + std::string(what), -rc);
  return Ok();
}

Result<void> Allow(const Context& ctx, std::initializer_list<int> syscalls) {
  for (int nr : syscalls) {
    VK_TRY(Check(seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, nr, 0),
                 "allow syscall " + std::to_string(nr)));
  }
  return Ok();
}

Result<void> AllowIf(const Context& ctx, int nr, scmp_arg_cmp cmp) {
  return Check(seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, nr, 1, cmp),
               "allow syscall " + std::to_string(nr));
}

// ioctl(fd, request, ...) for these requests only. The kernel takes the
// request as a 32-bit int, so only the low 32 bits are compared.
Result<void> AllowIoctls(const Context& ctx, std::initializer_list<unsigned long> requests) {
  for (unsigned long request : requests) {
    VK_TRY(AllowIf(ctx, SCMP_SYS(ioctl), SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, request)));
  }
  return Ok();
}

Result<void> AllowSocketFamilies(const Context& ctx, std::initializer_list<int> families) {
  for (int family : families) {
    VK_TRY(AllowIf(ctx, SCMP_SYS(socket), SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(family))));
  }
  return Ok();
}

// socket(family, SOCK_DGRAM | flags, ...) only: no TCP, no raw sockets.
Result<void> AllowDatagramSockets(const Context& ctx, std::initializer_list<int> families) {
  constexpr scmp_datum_t kSocketTypeMask = 0xf;  // SOCK_NONBLOCK/CLOEXEC are higher bits
  for (int family : families) {
    VK_TRY(Check(seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
                                  SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(family)),
                                  SCMP_A1(SCMP_CMP_MASKED_EQ, kSocketTypeMask, SOCK_DGRAM)),
                 "allow datagram sockets"));
  }
  return Ok();
}

#if defined(__SANITIZE_ADDRESS__)
// ASan's runtime, not our code: it reads a thread's alternate signal stack
// when the thread exits and probes whether memory is readable by writing it
// into a pipe. Sanitizer builds (the asan preset) only.
constexpr std::initializer_list<int> kSanitizerRuntime = {
    SCMP_SYS(sigaltstack),
    SCMP_SYS(pipe2),
};
#endif

Result<void> AllowCommon(const Context& ctx, int pid) {
  VK_TRY(Allow(ctx, kCommon));
#if defined(__SANITIZE_ADDRESS__)
  VK_TRY(Allow(ctx, kSanitizerRuntime));
#endif
  // W^X: no thread may map or make memory executable after start-up.
  VK_TRY(AllowIf(ctx, SCMP_SYS(mmap), SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)));
  VK_TRY(AllowIf(ctx, SCMP_SYS(mprotect), SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)));
  // Signals to this process's own threads only.
  return AllowIf(ctx, SCMP_SYS(tgkill), SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(pid)));
}

// Roles that open no files get EACCES rather than a kill for open/openat:
// glibc's malloc opens /proc/sys/vm/overcommit_memory once, from whichever
// thread first shrinks an arena heap, and treats a failure as "no".
Result<void> RefuseOpens(const Context& ctx) {
  for (int nr : {SCMP_SYS(open), SCMP_SYS(openat)}) {
    VK_TRY(Check(seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EACCES), nr, 0), "refuse opens"));
  }
  return Ok();
}

Result<void> AllowRole(const Context& ctx, ThreadRole role) {
  if (role != ThreadRole::kDevice && role != ThreadRole::kVhostUser) VK_TRY(RefuseOpens(ctx));
  switch (role) {
    case ThreadRole::kVcpu:
      VK_TRY(Allow(ctx, kVcpu));
      VK_TRY(AllowIoctls(ctx, kVcpuIoctls));
      // fstat of an fd it holds (glibc: newfstatat(fd, "", AT_EMPTY_PATH)):
      // the serial port's capped console log reads the file's size.
      VK_TRY(Allow(ctx, {SCMP_SYS(fstat)}));
      VK_TRY(AllowIf(ctx, SCMP_SYS(newfstatat),
                     SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH)));
      return AllowSocketFamilies(ctx, {AF_UNIX});
    case ThreadRole::kDevice:
      VK_TRY(Allow(ctx, kDevice));
      VK_TRY(AllowIoctls(ctx, kDeviceIoctls));
      // AF_NETLINK: getifaddrs when the host's addresses change (the LAN
      // refuses them as destinations); UDP: one socket per DNS upstream
      // query (a fresh source port each, against spoofed answers).
      VK_TRY(AllowSocketFamilies(ctx, {AF_UNIX, AF_NETLINK}));
      // getrlimit only (new limit NULL): virtio-fs keeps fds in reserve.
      VK_TRY(AllowIf(ctx, SCMP_SYS(prlimit64), SCMP_A2(SCMP_CMP_EQ, 0)));
      return AllowDatagramSockets(ctx, {AF_INET, AF_INET6});
    case ThreadRole::kNetEgress:
      VK_TRY(Allow(ctx, kNetEgress));
      VK_TRY(AllowIoctls(ctx, kNetEgressIoctls));
      return AllowSocketFamilies(ctx, {AF_UNIX, AF_INET, AF_INET6});
    case ThreadRole::kSession:
      VK_TRY(Allow(ctx, kSession));
      return AllowIoctls(ctx, kSessionIoctls);
    case ThreadRole::kVhostUser:
      // A device loop (guest memory arrives as fds over recvmsg and is
      // mapped with the common, never-executable mmap) that also activates
      // virtio-vsock, which makes its host listeners as a vCPU would.
      VK_TRY(Allow(ctx, kDevice));
      VK_TRY(AllowIoctls(ctx, kDeviceIoctls));
      VK_TRY(Allow(ctx, kVhostUserExtra));
      VK_TRY(AllowSocketFamilies(ctx, {AF_UNIX, AF_NETLINK}));
      VK_TRY(AllowIf(ctx, SCMP_SYS(prlimit64), SCMP_A2(SCMP_CMP_EQ, 0)));
      return AllowDatagramSockets(ctx, {AF_INET, AF_INET6});
  }
  return Error("unknown thread role");
}

// libseccomp 2.5 exports only to an fd.
Result<std::vector<sock_filter>> Export(const Context& ctx) {
  UniqueFd fd(::memfd_create("vk-seccomp", MFD_CLOEXEC));
  if (!fd) return Error::FromErrno("seccomp: memfd_create");
  VK_TRY(Check(seccomp_export_bpf(ctx.get(), fd.get()), "export filter"));
  off_t size = ::lseek(fd.get(), 0, SEEK_END);
  if (size <= 0 || size % sizeof(sock_filter) != 0) return Error("seccomp: bad exported filter");
  std::vector<sock_filter> program(static_cast<size_t>(size) / sizeof(sock_filter));
  if (::pread(fd.get(), program.data(), static_cast<size_t>(size), 0) != size) {
    return Error::FromErrno("seccomp: read exported filter");
  }
  return program;
}

// Filters compiled by Enable(), one per role, for the thread-role hook.
constexpr size_t kRoles = 5;
std::array<std::vector<sock_filter>, kRoles> g_programs;
// Landlock rulesets, one per role; invalid without Landlock (or not enforcing).
std::array<UniqueFd, kRoles> g_rulesets;

Result<void> ConfineRole(ThreadRole role) {
  size_t index = static_cast<size_t>(role);
  if (g_rulesets[index]) {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
      return Error::FromErrno("sandbox: PR_SET_NO_NEW_PRIVS");
    }
    VK_TRY(ApplyLandlock(g_rulesets[index].get()));
  }
  return LoadFilter(g_programs[index]);
}

void EnterRole(ThreadRole role) {
  auto loaded = ConfineRole(role);
  if (loaded.ok()) return;
  // Enable() checked the kernel: failing now is a broken invariant, and a
  // thread running unconfined is what the sandbox promised never happens.
  std::fprintf(stderr, "vk: sandbox: %s\n", loaded.error().message().c_str());
  std::abort();
}

}  // namespace

Result<Mode> ModeFromEnvironment() {
  const char* value = std::getenv("VIRTKIT_SECCOMP");
  std::string_view mode = value != nullptr ? value : "";
  if (mode.empty() || mode == "enforce") return Mode::kEnforce;
  if (mode == "log") return Mode::kLog;
  if (mode == "off") return Mode::kOff;
  return Error("VIRTKIT_SECCOMP=" + std::string(mode) + ": expected enforce, log or off");
}

Result<std::vector<sock_filter>> CompileFilter(ThreadRole role, Mode mode, int pid) {
  if (mode == Mode::kOff) return Error("seccomp: no filter in mode off");
  // Kill the process, not the thread: a VMM missing its device or a vCPU
  // thread would hang the guest with no error, and whatever made the
  // call may already hold locks the other threads need.
  uint32_t action = mode == Mode::kEnforce ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_LOG;
  Context ctx(seccomp_init(action));
  if (!ctx) return Error("seccomp: seccomp_init failed");
  // x32 and i386 entry points: never ours.
  VK_TRY(Check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS),
               "bad-arch action"));
  VK_TRY(AllowCommon(ctx, pid));
  VK_TRY(AllowRole(ctx, role));
  return Export(ctx);
}

Result<void> LoadFilter(const std::vector<sock_filter>& program) {
  sigset_t async;
  sigemptyset(&async);
  for (int signo = 1; signo < 32; ++signo) {
    bool synchronous = signo == SIGSEGV || signo == SIGBUS || signo == SIGFPE || signo == SIGILL ||
                       signo == SIGTRAP || signo == SIGSYS || signo == SIGABRT;
    if (!synchronous && signo != SIGKILL && signo != SIGSTOP) sigaddset(&async, signo);
  }
  if (int rc = ::pthread_sigmask(SIG_BLOCK, &async, nullptr); rc != 0) {
    return Error::FromErrno("sandbox: block signals", rc);
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return Error::FromErrno("sandbox: PR_SET_NO_NEW_PRIVS");
  }
  sock_fprog fprog{static_cast<unsigned short>(program.size()),
                   const_cast<sock_filter*>(program.data())};
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0) {
    return Error::FromErrno("sandbox: load seccomp filter");
  }
  return Ok();
}

Result<void> ConfineThisThread(ThreadRole role, Mode mode) {
  if (mode == Mode::kOff) return Ok();
  return LoadFilter(VK_TRY(CompileFilter(role, mode, ::getpid())));
}

namespace {

// The paths each role reaches after set-up; see Enable().
std::vector<PathRule> PathsFor(ThreadRole role, const ServedPaths& paths) {
  switch (role) {
    case ThreadRole::kVcpu:
      if (paths.run_dir.empty()) return {};
      return {{paths.run_dir, PathAccess::kSockets}};
    case ThreadRole::kDevice: return paths.shares;
    case ThreadRole::kVhostUser: {
      std::vector<PathRule> rules = paths.shares;
      if (!paths.run_dir.empty()) rules.push_back({paths.run_dir, PathAccess::kSockets});
      return rules;
    }
    case ThreadRole::kNetEgress:
    case ThreadRole::kSession: return {};
  }
  return {};
}

// Landlock only when enforcing: log mode is for finding what a filter
// misses, and Landlock has no log-only mode.
Result<void> CreateRulesets(Mode mode, const ServedPaths& paths) {
  for (UniqueFd& ruleset : g_rulesets) ruleset.Reset();
  if (mode != Mode::kEnforce) return Ok();
  if (LandlockAbi() == 0) {
    log::Debug("sandbox: no Landlock in this kernel; seccomp filters only");
    return Ok();
  }
  for (size_t role = 0; role < kRoles; ++role) {
    g_rulesets[role] =
        VK_TRY(CreateLandlockRuleset(PathsFor(static_cast<ThreadRole>(role), paths)));
  }
  return Ok();
}

}  // namespace

Result<void> Enable(Mode mode, const ServedPaths& paths) {
  if (mode == Mode::kOff) {
    log::Warn("VIRTKIT_SECCOMP=off: the VMM runs without its seccomp filters");
    SetThreadSandbox(nullptr);
    return Ok();
  }
  if (seccomp_api_get() < kMinApiLevel) {
    return Error("this kernel's seccomp cannot kill a process or log (libseccomp API level " +
                 std::to_string(seccomp_api_get()) + " < 3); set VIRTKIT_SECCOMP=off to run");
  }
  for (size_t role = 0; role < kRoles; ++role) {
    g_programs[role] = VK_TRY(CompileFilter(static_cast<ThreadRole>(role), mode, ::getpid()));
  }
  VK_TRY(CreateRulesets(mode, paths));
  SetThreadSandbox(&EnterRole);
  return Ok();
}

Result<void> EnableFromEnvironment(const ServedPaths& paths) {
  return Enable(VK_TRY(ModeFromEnvironment()), paths);
}

}  // namespace vk::sandbox
