#include "agent/spawn.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent/user_db.h"
#include "base/pipe.h"
#include "base/strings.h"
#include "proto/str_format.h"

namespace vk::agent {

using proto::StrFormat;
namespace {

// The parent's ends of the child's standard streams, and the child's ends.
struct StdioPlan {
  UniqueFd parent_in, parent_out, parent_err;
  UniqueFd child_in, child_out, child_err;
  std::string pty_path;  // set in tty mode: the child opens it after setsid()
};

Result<void> MakePipe(UniqueFd& read_end, UniqueFd& write_end) {
  Pipe pipe = VK_TRY(vk::MakePipe());
  read_end = std::move(pipe.read);
  write_end = std::move(pipe.write);
  return Ok();
}

Result<void> SetNonBlocking(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return Error::FromErrno("fcntl");
  return Ok();
}

Result<void> PlanPty(const proto::TtyConfig& tty, StdioPlan& plan) {
  UniqueFd master(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master) return Error::FromErrno("open /dev/ptmx (is devpts mounted?)");
  if (grantpt(master.get()) < 0 || unlockpt(master.get()) < 0)
    return Error::FromErrno("unlock pty");
  char name[64];
  if (ptsname_r(master.get(), name, sizeof(name)) != 0) return Error::FromErrno("ptsname");
  winsize size{tty.rows, tty.cols, 0, 0};
  ioctl(master.get(), TIOCSWINSZ, &size);
  plan.pty_path = name;
  plan.parent_in.Reset(fcntl(master.get(), F_DUPFD_CLOEXEC, 3));
  if (!plan.parent_in) return Error::FromErrno("dup pty master");
  plan.parent_out = std::move(master);
  return Ok();
}

Result<StdioPlan> PlanStdio(const proto::ExecRequest& request) {
  StdioPlan plan;
  if (request.tty) {
    VK_TRY(PlanPty(*request.tty, plan));
  } else {
    VK_TRY(MakePipe(plan.child_in, plan.parent_in));
    VK_TRY(MakePipe(plan.parent_out, plan.child_out));
    VK_TRY(MakePipe(plan.parent_err, plan.child_err));
    VK_TRY(SetNonBlocking(plan.parent_err.get()));
  }
  VK_TRY(SetNonBlocking(plan.parent_in.get()));
  VK_TRY(SetNonBlocking(plan.parent_out.get()));
  return plan;
}

// ---- Everything below runs in the forked child, which is single-threaded.

[[noreturn]] void Fail(int code, const std::string& message) {
  const std::string line = "vk-agent: " + message + "\n";
  (void)!write(STDERR_FILENO, line.data(), line.size());
  _exit(code);
}

void ResetSignals() {
  for (int signo = 1; signo < NSIG; ++signo) signal(signo, SIG_DFL);  // also un-ignores SIGPIPE
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

void SetUpStdio(StdioPlan& plan) {
  if (setsid() < 0) Fail(kExitCannotRun, StrFormat("setsid: {}", strerror(errno)));
  if (!plan.pty_path.empty()) {
    // Opened without O_NOCTTY by a session leader: becomes its controlling tty.
    plan.child_in.Reset(open(plan.pty_path.c_str(), O_RDWR));
    if (!plan.child_in)
      Fail(kExitCannotRun, StrFormat("open {}: {}", plan.pty_path, strerror(errno)));
    ioctl(plan.child_in.get(), TIOCSCTTY, 0);
    plan.child_out.Reset(dup(plan.child_in.get()));
    plan.child_err.Reset(dup(plan.child_in.get()));
  }
  dup2(plan.child_in.get(), STDIN_FILENO);
  dup2(plan.child_out.get(), STDOUT_FILENO);
  dup2(plan.child_err.get(), STDERR_FILENO);
  syscall(SYS_close_range, 3U, ~0U, 0U);  // nothing of the agent's leaks into the command
}

void SwitchUser(const proto::ExecRequest& request, const UserIdentity& user) {
  if (getuid() != 0) {
    if (request.user.empty() || user.uid == getuid()) return;
    Fail(kExitCannotRun, StrFormat("cannot run as '{}': vk-agent is not root", request.user));
  }
  if (setgroups(user.groups.size(), user.groups.data()) < 0 || setgid(user.gid) < 0 ||
      setuid(user.uid) < 0) {
    Fail(kExitCannotRun, StrFormat("switch to user '{}': {}", request.user, strerror(errno)));
  }
}

// Linux's RLIMIT_* numbers, for messages a user reads.
std::string RlimitName(uint32_t resource) {
  static constexpr const char* kNames[proto::kRlimitResources] = {
      "CPU",     "FSIZE", "DATA",  "STACK",      "CORE",     "RSS",  "NPROC",  "NOFILE",
      "MEMLOCK", "AS",    "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME"};
  if (resource < proto::kRlimitResources) return std::string("RLIMIT_") + kNames[resource];
  return StrFormat("resource {}", resource);
}

// Runs as root, before SwitchUser: raising a hard limit needs CAP_SYS_RESOURCE.
void ApplyResourceLimits(const std::vector<proto::ResourceLimit>& limits) {
  for (const auto& limit : limits) {
    const rlimit value{static_cast<rlim_t>(limit.cur), static_cast<rlim_t>(limit.max)};
    if (setrlimit(static_cast<int>(limit.resource), &value) < 0) {
      Fail(kExitCannotRun,
           StrFormat("setrlimit {} (soft {}, hard {}): {}", RlimitName(limit.resource), limit.cur,
                     limit.max, strerror(errno)));
    }
  }
}

std::string EnvValue(const std::vector<std::string>& env, std::string_view name) {
  for (auto it = env.rbegin(); it != env.rend(); ++it) {
    if (it->size() > name.size() && StartsWith(*it, name) && (*it)[name.size()] == '=') {
      return it->substr(name.size() + 1);
    }
  }
  return {};
}

[[noreturn]] void Exec(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  std::vector<char*> args, envp;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  for (const auto& entry : env) envp.push_back(const_cast<char*>(entry.c_str()));
  args.push_back(nullptr);
  envp.push_back(nullptr);
  const std::string& name = argv[0];
  int error = ENOENT;
  if (name.find('/') != std::string::npos) {
    execve(name.c_str(), args.data(), envp.data());
    error = errno;
  } else {
    std::string path = EnvValue(env, "PATH");
    for (const auto& dir : Split(path.empty() ? kDefaultPath : path, ':')) {
      const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
      execve(candidate.c_str(), args.data(), envp.data());
      if (errno != ENOENT && errno != ENOTDIR) error = errno;  // remember "found but failed"
    }
    if (error == ENOENT)
      Fail(kExitNotFound, StrFormat("exec: \"{}\": executable file not found in $PATH", name));
  }
  Fail(error == ENOENT || error == ENOTDIR ? kExitNotFound : kExitCannotRun,
       StrFormat("exec: \"{}\": {}", name, strerror(error)));
}

[[noreturn]] void RunChild(const proto::ExecRequest& request, StdioPlan& plan) {
  ResetSignals();
  SetUpStdio(plan);
  auto user = LoadUser(request.user);
  if (!user.ok()) Fail(kExitCannotRun, user.error().message());
  // After LoadUser, which opens files a low RLIMIT_NOFILE or RLIMIT_AS could
  // deny the agent's own lookup.
  ApplyResourceLimits(request.rlimits);
  SwitchUser(request, *user);
  const auto env = BuildEnvironment(request, user->home);
  const std::string& dir = request.cwd.empty() ? user->home : request.cwd;
  if (chdir(dir.c_str()) < 0) {
    if (!request.cwd.empty()) Fail(kExitCannotRun, StrFormat("chdir {}: {}", dir, strerror(errno)));
    (void)!chdir("/");
  }
  Exec(request.argv, env);
}

}  // namespace

std::vector<std::string> BuildEnvironment(const proto::ExecRequest& request,
                                          const std::string& home) {
  std::vector<std::string> env;
  if (!request.clear_env) {
    env.push_back(StrFormat("PATH={}", kDefaultPath));
    env.push_back("HOME=" + home);
    if (request.tty) env.push_back("TERM=" + request.tty->term);
    // Set by init on PVM hosts (agent/init.cc); the request may override it.
    if (const char* tunables = getenv("GLIBC_TUNABLES")) {
      env.push_back(std::string("GLIBC_TUNABLES=") + tunables);
    }
  }
  for (const auto& entry : request.env) {
    const std::string_view name(entry.data(), entry.find('='));
    std::erase_if(env, [&](const std::string& existing) {
      return existing.size() > name.size() && StartsWith(existing, name) &&
             existing[name.size()] == '=';
    });
    env.push_back(entry);
  }
  return env;
}

Result<SpawnedChild> SpawnCommand(const proto::ExecRequest& request) {
  StdioPlan plan = VK_TRY(PlanStdio(request));
  const pid_t pid = fork();
  if (pid < 0) return Error::FromErrno("fork");
  if (pid == 0) RunChild(request, plan);
  // setsid() in the child makes pid its process group; do not race the
  // child on it: signals to -pid before that would miss, so the server always
  // falls back to kill(pid) as well.
  SpawnedChild child;
  child.pid = pid;
  child.tty = request.tty.has_value();
  child.stdin_fd = std::move(plan.parent_in);
  child.stdout_fd = std::move(plan.parent_out);
  child.stderr_fd = std::move(plan.parent_err);
  return child;
}

}  // namespace vk::agent
