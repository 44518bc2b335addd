#include "runtime/detach.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/private_dir.h"
#include "base/strings.h"
#include "base/unique_fd.h"
#include "base/unix_socket.h"
#include "proto/frame_channel.h"
#include "runtime/vm_state.h"

namespace vk {
namespace {

// The child: a session of its own, no terminal, output into vm.log.
Result<void> BecomeBackgroundVmm(const VmDir& dir) {
  UniqueFd log = VK_TRY(OpenPrivateFile(dir.VmmLog(), O_APPEND));
  UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null) return Error::FromErrno("open /dev/null");
  ::setsid();
  ::dup2(null.get(), STDIN_FILENO);
  ::dup2(log.get(), STDOUT_FILENO);
  ::dup2(log.get(), STDERR_FILENO);
  return Ok();
}

std::string FileTail(const std::string& path, size_t max_bytes) {
  std::ifstream file(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(file)), {});
  return text.size() > max_bytes ? text.substr(text.size() - max_bytes) : text;
}

// What the user needs to see when a detached boot fails: the VMM's own
// output and, since the guest kernel says why it stopped there, the end of
// its console.
std::string LogTail(const VmDir& dir) {
  std::string out;
  std::string vmm = FileTail(dir.VmmLog(), 2000);
  if (!vmm.empty()) out += "--- VMM (vm.log) ---\n" + vmm;
  std::string console = FileTail(dir.ConsoleLog(), 3000);
  if (!console.empty()) out += "--- guest console (console.log, last lines) ---\n" + console;
  return out.empty() ? "(the VMM and the guest printed nothing)" : out;
}

std::string DescribeExit(int status) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    std::string text = "the VMM was killed by signal " + std::to_string(sig);
    if (const char* name = sigabbrev_np(sig)) text += std::string(" (SIG") + name + ")";
    if (sig == SIGSYS) {
      text +=
          "; a syscall outside its sandbox: rerun with VIRTKIT_SECCOMP=log and report the "
          "audit line in the kernel log";
    }
    return text;
  }
  return "the VMM exited with status " + std::to_string(WEXITSTATUS(status));
}

// How long one probe waits for the agent's hello. Each probe costs the guest
// a fork (the exec server serves every connection in a child), which takes
// seconds on a loaded PVM host: a probe that gives up sooner only queues
// more forks and starves the guest (seen: a VM whose command forks every
// second never answered within 900 s with a 2 s wait). A VM that dies closes
// the socket, which ends the wait at once.
constexpr int kProbeHelloMs = 15000;

Result<void> WaitUntilReady(pid_t child, const LaunchOptions& options, const VmDir& dir) {
  auto deadline = std::chrono::steady_clock::now() + options.boot_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(child, &status, WNOHANG) == child) {
      return Error(ErrorKind::kGuestPanic,
                   "the VM stopped while booting (" + DescribeExit(status) + "):\n" + LogTail(dir));
    }
    if (ProbeAgent(dir.ExecSocket(), kProbeHelloMs).ok()) return Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  return Error(ErrorKind::kTimeout, "the VM did not answer within " +
                                        std::to_string(options.boot_timeout.count()) +
                                        " s (raise --boot-timeout); its log:\n" + LogTail(dir));
}

}  // namespace

std::string GeneratedVmName() {
  uint32_t random = 0;
  if (::getrandom(&random, sizeof(random), 0) != sizeof(random)) random = ::getpid();
  return "vm-" + ToHex(random & 0xffffff);
}

Result<void> ProbeAgent(const std::string& exec_socket, int timeout_ms) {
  UniqueFd fd = VK_TRY(ConnectUnix(exec_socket));
  VK_TRY(proto::ExchangeHello(fd.get(), proto::Role::kHost, timeout_ms));
  return Ok();
}

Result<DetachRole> Detach(const LaunchOptions& options, const VmDir& dir) {
  std::fflush(nullptr);
  pid_t child = ::fork();
  if (child < 0) return Error::FromErrno("fork");
  if (child == 0) {
    VK_TRY(BecomeBackgroundVmm(dir));
    return DetachRole::kChild;
  }
  VK_TRY(WaitUntilReady(child, options, dir));
  return DetachRole::kParent;
}

}  // namespace vk
