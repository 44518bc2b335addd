#include "lib/supervisor.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "base/pipe.h"
#include "base/unique_fd.h"
#include "lib/errors.h"
#include "lib/sigpipe_guard.h"

extern char** environ;

namespace virtkit::internal {
namespace {

// A reply line is small; this bounds what a broken supervisor can make us hold.
constexpr size_t kMaxReplyBytes = 1 << 20;

bool Executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

// The vk installed with this library: <libdir>/<rel>/vk when we are the
// shared library (found through dladdr), else the configured bindir.
std::string InstalledVk() {
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(&InstalledVk), &info) != 0 && info.dli_fname != nullptr) {
    std::filesystem::path self(info.dli_fname);
    if (self.filename().string().starts_with("libvirtkit.so")) {
      return (self.parent_path() / VIRTKIT_LIBDIR_TO_BINDIR / "vk").lexically_normal().string();
    }
  }
  return std::string(VIRTKIT_INSTALL_BINDIR) + "/vk";
}

std::string OnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    size_t colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    dirs = colon == std::string_view::npos ? "" : dirs.substr(colon + 1);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (Executable(candidate)) return candidate;
  }
  return "";
}

std::string_view LogName(LogLevel level) {
  switch (level) {
    case LogLevel::kError: return "error";
    case LogLevel::kWarning: return "warn";
    case LogLevel::kInfo: return "info";
    case LogLevel::kDebug: return "debug";
  }
  return "warn";
}

std::vector<std::string> ChildEnvironment(const SuperviseOptions& options) {
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    if (text.starts_with("VIRTKIT_LOG=")) continue;
    if (!options.data_dir.empty() && text.starts_with("VIRTKIT_HOME=")) continue;
    env.emplace_back(text);
  }
  env.push_back("VIRTKIT_LOG=" + std::string(LogName(options.log_level)));
  if (!options.data_dir.empty()) env.push_back("VIRTKIT_HOME=" + options.data_dir);
  return env;
}

using vk::Pipe;

Result<Pipe> MakePipe() {
  auto pipe = vk::MakePipe();
  if (!pipe) return FromVk(pipe.error());
  return std::move(*pipe);
}

Result<pid_t> Spawn(const std::string& program, const SuperviseOptions& options, Pipe& in,
                    Pipe& out, Pipe& err) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.read.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out.write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err.write.get(), STDERR_FILENO);
  // Whatever the embedding program left without O_CLOEXEC stays with it.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  std::vector<std::string> env = ChildEnvironment(options);
  std::vector<char*> envp;
  for (auto& entry : env) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::string arg0 = program, arg1 = "supervise";
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, program.c_str(), &actions, &attr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return Error(ErrorKind::kNotFound, "start " + program + ": " + std::strerror(rc));
  }
  return pid;
}

Result<void> WriteSpec(int fd, std::string_view spec) {
  SigpipeGuard guard;  // a supervisor that dies early must not kill us
  while (!spec.empty()) {
    ssize_t n = ::write(fd, spec.data(), spec.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error(ErrorKind::kInternal, std::string("write spec: ") + strerror(errno));
    spec.remove_prefix(static_cast<size_t>(n));
  }
  return Ok();
}

// Reads stdout and stderr until both end or the deadline passes.
bool Collect(int out, int err, std::chrono::steady_clock::time_point deadline, std::string& reply,
             const std::function<void(std::string_view)>& on_stderr, std::string& err_text) {
  pollfd fds[2] = {{out, POLLIN, 0}, {err, POLLIN, 0}};
  std::string partial;
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    if (::poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR) return false;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      ssize_t n = ::read(fds[i].fd, buffer, sizeof(buffer));
      if (n <= 0) {
        fds[i].fd = -1;
        continue;
      }
      std::string& sink = i == 0 ? reply : partial;
      sink.append(buffer, static_cast<size_t>(n));
      if (reply.size() > kMaxReplyBytes) return false;
      size_t newline;
      while (i == 1 && (newline = partial.find('\n')) != std::string::npos) {
        std::string line = partial.substr(0, newline);
        partial.erase(0, newline + 1);
        if (on_stderr) on_stderr(line);
        err_text = (err_text + line + "\n").substr(err_text.size() > 4096 ? 1024 : 0);
      }
    }
  }
  if (!partial.empty()) err_text += partial;
  return true;
}

int Reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

}  // namespace

Result<std::string> FindVkProgram(const std::string& configured) {
  if (!configured.empty()) {
    if (Executable(configured)) return configured;
    return Error(ErrorKind::kNotFound, "vk program " + configured + " is not executable");
  }
  if (const char* env = std::getenv("VIRTKIT_VK"); env != nullptr && *env != '\0') {
    if (Executable(env)) return std::string(env);
    return Error(ErrorKind::kNotFound, std::string("VIRTKIT_VK=") + env + " is not executable");
  }
  if (std::string installed = InstalledVk(); Executable(installed)) return installed;
  if (std::string found = OnPath("vk"); !found.empty()) return found;
  return Error(ErrorKind::kNotFound,
               "the vk program was not found (not beside libvirtkit, not on PATH): install "
               "virtkit, or set Options::vk_program or VIRTKIT_VK");
}

Result<SupervisorReply> ParseSupervisorReply(std::string_view line) {
  try {
    auto json = nlohmann::json::parse(line);
    if (json.contains("error")) {
      const auto& error = json.at("error");
      return Error(KindFromName(error.value("kind", "internal")),
                   error.value("message", "vk supervise failed"));
    }
    SupervisorReply reply;
    reply.name = json.at("name").get<std::string>();
    reply.dir = json.at("dir").get<std::string>();
    reply.pid = json.at("pid").get<pid_t>();
    return reply;
  } catch (const nlohmann::json::exception& e) {
    return Error(ErrorKind::kInternal, std::string("bad reply from vk supervise: ") + e.what());
  }
}

Result<SupervisorReply> Supervise(const std::string& spec, const SuperviseOptions& options) {
  auto in = MakePipe(), out = MakePipe(), err = MakePipe();
  if (!in) return in.error();
  if (!out) return out.error();
  if (!err) return err.error();
  auto pid = Spawn(options.program, options, *in, *out, *err);
  if (!pid) return pid.error();
  in->read.Reset();
  out->write.Reset();
  err->write.Reset();
  auto written = WriteSpec(in->write.get(), spec);
  in->write.Reset();
  std::string reply, err_text;
  bool finished =
      Collect(out->read.get(), err->read.get(), std::chrono::steady_clock::now() + options.deadline,
              reply, options.on_stderr, err_text);
  if (!finished) ::kill(*pid, SIGKILL);
  int status = Reap(*pid);
  if (!finished) return Error(ErrorKind::kTimeout, "vk supervise did not answer in time");
  while (!reply.empty() && (reply.back() == '\n' || reply.back() == '\r')) reply.pop_back();
  if (reply.empty()) {
    std::string why = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                          : "exit " + std::to_string(WEXITSTATUS(status));
    if (!written) why += ", " + written.error().message();
    return Error(ErrorKind::kInternal, "vk supervise ended without a reply (" + why + ")" +
                                           (err_text.empty() ? "" : ": " + err_text));
  }
  auto parsed = ParseSupervisorReply(reply.substr(reply.rfind('\n') + 1));
  if (parsed && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
    return Error(ErrorKind::kInternal, "vk supervise replied but failed");
  }
  return parsed;
}

}  // namespace virtkit::internal
