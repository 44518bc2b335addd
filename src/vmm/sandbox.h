// The VMM sandbox (docs/security.md, "VMM sandbox"): every thread that
// handles guest input runs under a seccomp filter allowing only the system
// calls its role (base/thread_role.h) needs, with no_new_privs set. A call
// outside the filter kills the whole VMM (SIGSYS): a VMM thread that tries
// one is compromised or broken, and the guest must not outlive either.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "base/result.h"
#include "base/thread_role.h"
#include "vmm/landlock.h"

namespace vk::sandbox {

enum class Mode {
  kEnforce,  // a forbidden call kills the VMM process (the default)
  kLog,      // a forbidden call is allowed and logged by the kernel (audit/dmesg)
  kOff,      // no filters (for comparing behaviour; not for production)
};

// VIRTKIT_SECCOMP: unset or "enforce", "log", "off"; anything else is an error.
Result<Mode> ModeFromEnvironment();

// Compiles `role`'s filter. `pid` is the process threads may signal (tgkill
// to kick vCPUs, abort()); the filter is valid only in that process.
Result<std::vector<sock_filter>> CompileFilter(ThreadRole role, Mode mode, int pid);

// Sets no_new_privs and loads `program` on the calling thread only (no
// TSYNC: each role has its own filter). Blocks the classic asynchronous
// signals first so process-directed ones (^C, SIGTERM, SIGWINCH) are handled
// on the unfiltered main thread; real-time signals (the vCPU kick) stay as
// they were.
Result<void> LoadFilter(const std::vector<sock_filter>& program);

// Compiles and loads `role`'s filter on the calling thread.
Result<void> ConfineThisThread(ThreadRole role, Mode mode);

// What the VMM still reaches by path once set up, for Landlock.
struct ServedPaths {
  std::string run_dir;           // vsock's unix sockets (made and removed by vCPU threads)
  std::vector<PathRule> shares;  // virtio-fs shares (device thread)
};

// Checks the kernel can enforce `mode`, compiles a filter per role and
// installs the thread-role hook, so each VMM thread loads its filter as it
// starts (a thread that cannot aborts the process). In enforce mode, where
// the kernel has Landlock, each thread is also limited to `paths` it needs
// (vCPU: sockets in the run dir; device: the shares; others: no paths).
// Call once, on the VMM process's main thread, after any fork and before
// the role threads start.
Result<void> Enable(Mode mode, const ServedPaths& paths = {});
// Enable(ModeFromEnvironment(), paths).
Result<void> EnableFromEnvironment(const ServedPaths& paths = {});

}  // namespace vk::sandbox
