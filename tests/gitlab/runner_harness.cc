#include "gitlab/runner_harness.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace vk::gitlab_test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// What the runner gives a process between SIGTERM and SIGKILL when a call
// runs past its timeout (graceful_kill_timeout's order of magnitude).
constexpr auto kGrace = std::chrono::seconds(10);

std::string MakeTempDir() {
  std::string pattern = (fs::temp_directory_path() / "custom-executor-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

int WaitStatus(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

// Reads both pipes to their end; past the deadline the group gets SIGTERM,
// then SIGKILL after kGrace.
void Drain(pid_t pid, int out, int err, Clock::time_point deadline, CallResult& result) {
  pollfd fds[2] = {{out, POLLIN, 0}, {err, POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open = 2;
  int signals = 0;
  while (open > 0) {
    if (Clock::now() > deadline + signals * kGrace && signals < 2) {
      ::kill(-pid, signals == 0 ? SIGTERM : SIGKILL);
      ++signals;
    }
    if (::poll(fds, 2, 200) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[65536];
      ssize_t n = ::read(fds[i].fd, buffer, sizeof(buffer));
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(n));
      } else {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open;
      }
    }
  }
}

}  // namespace

FakeRunner::FakeRunner(std::vector<std::string> driver, std::vector<std::string> extra_args,
                       Job job)
    : driver_(std::move(driver)),
      extra_args_(std::move(extra_args)),
      job_(std::move(job)),
      temp_dir_(MakeTempDir()) {
  nlohmann::json variables = nlohmann::json::array();
  for (const auto& [key, value] : job_.variables) {
    variables.push_back({{"key", key}, {"value", value}, {"public", true}});
  }
  nlohmann::json response = {
      {"id", std::stoll(job_.id)},
      {"token", "harness-job-token"},
      {"job_info",
       {{"name", "harness"}, {"stage", "test"}, {"project_id", std::stoll(job_.project_id)}}},
      {"variables", variables},
  };
  std::ofstream(temp_dir_ + "/response.json") << response.dump() << "\n";
  fs::permissions(temp_dir_ + "/response.json", fs::perms::owner_read | fs::perms::owner_write);
}

FakeRunner::~FakeRunner() {
  std::error_code ignored;
  fs::remove_all(temp_dir_, ignored);
}

std::vector<std::string> FakeRunner::Environment() const {
  std::vector<std::string> env = {
      "TMPDIR=" + temp_dir_,
      "BUILD_FAILURE_EXIT_CODE=" + std::to_string(kBuildFailure),
      "SYSTEM_FAILURE_EXIT_CODE=" + std::to_string(kSystemFailure),
      "BUILD_EXIT_CODE_FILE=" + temp_dir_ + "/build_exit_code",
      "JOB_RESPONSE_FILE=" + temp_dir_ + "/response.json",
  };
  for (const auto& [key, value] : job_env_) env.push_back(key + "=" + value);
  std::map<std::string, std::string> variables = {
      {"CI_JOB_ID", job_.id},
      {"CI_PROJECT_ID", job_.project_id},
      {"CI_RUNNER_ID", job_.runner_id},
      {"CI_CONCURRENT_PROJECT_ID", job_.concurrent_id},
  };
  for (const auto& [key, value] : job_.variables) variables[key] = value;
  for (const auto& [key, value] : variables) env.push_back("CUSTOM_ENV_" + key + "=" + value);
  return env;
}

std::vector<std::string> FakeRunner::Argv(const std::string& stage,
                                          const std::vector<std::string>& tail) const {
  std::vector<std::string> argv = driver_;
  argv.push_back(stage);
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  argv.insert(argv.end(), tail.begin(), tail.end());
  return argv;
}

pid_t FakeRunner::Spawn(const std::vector<std::string>& argv, int out, int err) const {
  // The runner's own environment first, then ours: later entries win in
  // the Go runtime's exec (the last of duplicate keys is used).
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) env.emplace_back(*entry);
  for (const std::string& entry : Environment()) {
    const std::string key = entry.substr(0, entry.find('=') + 1);
    std::erase_if(env, [&key](const std::string& old) { return old.starts_with(key); });
    env.push_back(entry);
  }
  pid_t pid = ::fork();
  if (pid != 0) {
    if (pid > 0) ::setpgid(pid, pid);  // both sides, so neither races the other
    return pid;
  }
  ::setpgid(0, 0);
  if (::chdir(temp_dir_.c_str()) != 0) ::_exit(127);
  int devnull = ::open("/dev/null", O_RDONLY);
  ::dup2(devnull, 0);
  ::dup2(out, 1);
  ::dup2(err, 2);
  std::vector<char*> args, envp;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  for (const auto& entry : env) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  ::execve(args[0], args.data(), envp.data());
  ::_exit(127);
}

CallResult FakeRunner::Call(const std::vector<std::string>& argv,
                            std::chrono::seconds timeout) const {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe2 failed");
  }
  const auto start = Clock::now();
  pid_t pid = Spawn(argv, out[1], err[1]);
  ::close(out[1]);
  ::close(err[1]);
  CallResult result;
  Drain(pid, out[0], err[0], start + timeout, result);
  result.exit_code = WaitStatus(pid);
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  return result;
}

CallResult FakeRunner::Config() {
  CallResult result = Call(Argv("config", {}), std::chrono::seconds(60));
  if (result.exit_code != 0) return result;
  auto json = nlohmann::json::parse(result.out, nullptr, false);
  if (json.is_object() && json.contains("job_env") && json["job_env"].is_object()) {
    for (const auto& [key, value] : json["job_env"].items()) {
      if (value.is_string()) job_env_[key] = value.get<std::string>();
    }
  }
  return result;
}

CallResult FakeRunner::Prepare(std::chrono::seconds timeout) {
  return Call(Argv("prepare", {}), timeout);
}

CallResult FakeRunner::Run(const std::string& stage, std::string_view commands,
                           std::chrono::seconds timeout) {
  char dir[32];
  std::snprintf(dir, sizeof(dir), "/script%03d", ++scripts_);
  const std::string script_dir = temp_dir_ + dir;
  fs::create_directory(script_dir);
  const std::string script = script_dir + "/script";
  std::ofstream(script) << StageScript(Exports() + std::string(commands));
  fs::permissions(script, fs::perms::owner_all);
  return Call(Argv("run", {script, stage}), timeout);
}

CallResult FakeRunner::Cleanup(std::chrono::seconds timeout) {
  return Call(Argv("cleanup", {}), timeout);
}

pid_t FakeRunner::StartPrepare() {
  int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  pid_t pid = Spawn(Argv("prepare", {}), devnull, devnull);
  ::close(devnull);
  return pid;
}

int FakeRunner::Terminate(pid_t pid, std::chrono::milliseconds grace) {
  ::kill(-pid, SIGTERM);
  const auto deadline = Clock::now() + grace;
  int status = 0;
  while (Clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      ::kill(-pid, SIGKILL);  // whatever of the group is left, as the runner's killer
      return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Kill(pid);
}

int FakeRunner::Kill(pid_t pid) {
  ::kill(-pid, SIGKILL);
  return WaitStatus(pid);
}

std::string FakeRunner::BuildExitCode() const {
  std::ifstream in(temp_dir_ + "/build_exit_code");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string FakeRunner::AnsiCQuote(std::string_view text) {
  std::string out = "$'";
  for (unsigned char c : text) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\'': out += "\\'"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char hex[8];
          std::snprintf(hex, sizeof(hex), "\\x%02x", c);
          out += hex;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "'";
}

std::string FakeRunner::StageScript(std::string_view commands) {
  std::string script = "#!/usr/bin/env bash\n\n";
  script += "trap 'exit 1' TERM\n\n";
  script += "case \"$(set -o)\" in *\"pipefail\"*) set -o pipefail;; esac; set -o errexit\n";
  script += "set +o noclobber\n";
  script += "(trap 'exit 1' TERM; eval " + AnsiCQuote(commands) + ") < /dev/null\n";
  script += "exit 0\n";
  return script;
}

std::string FakeRunner::Exports() const {
  std::map<std::string, std::string> variables = {
      {"CI_JOB_ID", job_.id},
      {"CI_PROJECT_ID", job_.project_id},
      {"CI_RUNNER_ID", job_.runner_id},
      {"CI_CONCURRENT_PROJECT_ID", job_.concurrent_id},
  };
  for (const auto& [key, value] : job_.variables) variables[key] = value;
  std::string exports;
  for (const auto& [key, value] : variables) {
    exports += "export " + key + "=" + AnsiCQuote(value) + "\n";
  }
  return exports;
}

}  // namespace vk::gitlab_test
