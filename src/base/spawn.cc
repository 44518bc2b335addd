#include "base/spawn.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "base/defer.h"

extern char** environ;

namespace vk {

namespace {

// posix_spawn cannot set a parent-death signal, so this one forks. The child
// of a threaded process may only make async-signal-safe calls before exec:
// everything it uses is prepared here, and a failed exec is exit status 127.
Result<pid_t> SpawnDyingWithParent(const std::vector<std::string>& argv,
                                   const SpawnOptions& options) {
  if (options.search_path || argv[0].empty() || argv[0][0] != '/')
    return Error(ErrorKind::kUsage, "spawn " + argv[0] + ": needs an absolute path");
  if (::access(argv[0].c_str(), X_OK) != 0)
    return Error::FromErrno("run " + argv[0]).WithKind(ErrorKind::kNotFound);
  std::vector<std::string> copies = argv;
  std::vector<char*> pointers;
  for (std::string& arg : copies) pointers.push_back(arg.data());
  pointers.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return Error::FromErrno("run " + argv[0]);
  if (pid > 0) return pid;
  if (options.new_session) ::setsid();
  for (int i = 0; i < 3; ++i) {
    if (options.stdio[i] == i) {
      ::fcntl(i, F_SETFD, 0);  // keep it across exec
    } else if (::dup2(options.stdio[i], i) < 0) {
      ::_exit(127);
    }
  }
  struct sigaction defaults {};
  defaults.sa_handler = SIG_DFL;
  for (int signo = 1; signo < NSIG; ++signo) ::sigaction(signo, &defaults, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
  ::execve(pointers[0], pointers.data(), environ);
  ::_exit(127);
}

}  // namespace

Result<pid_t> SpawnProcess(const std::vector<std::string>& argv, const SpawnOptions& options) {
  if (argv.empty()) return Error(ErrorKind::kUsage, "spawn: no program");
  if (options.die_with_parent) return SpawnDyingWithParent(argv, options);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  Defer destroy_actions([&] { posix_spawn_file_actions_destroy(&actions); });
  for (int i = 0; i < 3; ++i) posix_spawn_file_actions_adddup2(&actions, options.stdio[i], i);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  Defer destroy_attr([&] { posix_spawnattr_destroy(&attr); });
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (options.new_session) flags |= POSIX_SPAWN_SETSID;
  posix_spawnattr_setflags(&attr, flags);
  std::vector<std::string> copies = argv;
  std::vector<char*> pointers;
  for (std::string& arg : copies) pointers.push_back(arg.data());
  pointers.push_back(nullptr);
  pid_t pid = -1;
  int rc = options.search_path
               ? ::posix_spawnp(&pid, argv[0].c_str(), &actions, &attr, pointers.data(), environ)
               : ::posix_spawn(&pid, argv[0].c_str(), &actions, &attr, pointers.data(), environ);
  if (rc == ENOENT) return Error(ErrorKind::kNotFound, argv[0] + ": not found");
  if (rc != 0) return Error::FromErrno("run " + argv[0], rc);
  return pid;
}

std::string SignalName(int signo) {
  if (const char* name = sigabbrev_np(signo)) return std::string("SIG") + name;
  return "signal " + std::to_string(signo);
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by " + SignalName(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

std::string SelfExecutable() {
  char path[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  return n > 0 ? std::string(path, static_cast<size_t>(n)) : std::string();
}

ChildProcess::~ChildProcess() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

std::optional<int> ChildProcess::WaitUntil(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return status;
    }
    if (r < 0 && errno != EINTR) return std::nullopt;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

int ChildProcess::Wait() {
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  return status;
}

}  // namespace vk
