// Starting helper programs: posix_spawn (never a shell, never a fork of a
// threaded vk), with stdio on given fds, an empty signal mask and default
// signal dispositions (vk blocks or ignores some signals, and children
// would otherwise inherit that). ChildProcess owns what was started.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace vk {

struct SpawnOptions {
  int stdio[3] = {0, 1, 2};  // the child's stdin, stdout, stderr
  bool new_session = false;  // setsid(): no controlling terminal, own process group
  bool search_path = false;  // argv[0] looked up in PATH
  // SIGKILLed when the calling thread ends (PR_SET_PDEATHSIG): a helper that
  // must not outlive vk even when vk is SIGKILLed (QEMU under `--vmm qemu`).
  // Spawn it from a thread that lives as long as the child should (the
  // main thread). Needs an absolute argv[0] (no search_path).
  bool die_with_parent = false;
};

// Starts argv; an error names the program (ENOENT: "not found").
Result<pid_t> SpawnProcess(const std::vector<std::string>& argv, const SpawnOptions& options);

// "SIGKILL" (or "signal 64" for one without a name).
std::string SignalName(int signo);
// A wait status for a message: "exit status 3", "killed by SIGKILL".
std::string DescribeWaitStatus(int status);

// This very program (/proc/self/exe), to run vk's own subcommands.
std::string SelfExecutable();

// Owns a spawned child: kills and reaps it unless it was waited for or
// released.
class ChildProcess {
 public:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  ChildProcess(ChildProcess&& other) noexcept : pid_(other.pid_) { other.pid_ = -1; }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // The wait status, or nullopt if the child still runs at `deadline`.
  std::optional<int> WaitUntil(std::chrono::steady_clock::time_point deadline);
  // The wait status, once it ends.
  int Wait();
  // Leaves the child running and unreaped by us (a daemon's own session).
  void Release() { pid_ = -1; }

 private:
  pid_t pid_;
};

}  // namespace vk
