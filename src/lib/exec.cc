#include "lib/exec.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "base/pipe.h"
#include "lib/errors.h"
#include "lib/sigpipe_guard.h"
#include "proto/exec_client.h"

namespace virtkit::internal {
namespace {

// After SIGKILL was forwarded, how long the session may take to report it
// before the connection is dropped (which kills the guest process group).
constexpr auto kKillGrace = std::chrono::seconds(2);

Result<vk::Pipe> MakePipe() {
  auto pipe = vk::MakePipe();
  if (!pipe) return FromVk(pipe.error());
  return std::move(*pipe);
}

// One output stream: a caller's fd, or a pipe drained into a callback or a string.
class OutputPump {
 public:
  Result<int> Start(int caller_fd, std::function<void(std::string_view)> callback,
                    std::string* collected) {
    if (caller_fd >= 0) return caller_fd;
    auto pipe = MakePipe();
    if (!pipe) return pipe.error();
    read_ = std::move(pipe->read);
    write_ = std::move(pipe->write);
    thread_ = std::thread([this, callback = std::move(callback), collected] {
      char buffer[16384];
      while (true) {
        ssize_t n = ::read(read_.get(), buffer, sizeof(buffer));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        std::string_view chunk(buffer, static_cast<size_t>(n));
        if (callback) {
          callback(chunk);
        } else {
          collected->append(chunk);
        }
      }
    });
    return write_.get();
  }
  // After the session: the write end closes, the reader drains and ends.
  void Finish() {
    write_.Reset();
    if (thread_.joinable()) thread_.join();
  }
  ~OutputPump() { Finish(); }

 private:
  vk::UniqueFd read_, write_;
  std::thread thread_;
};

// stdin_data fed through a pipe by a thread of its own.
class InputPump {
 public:
  Result<int> Start(const ExecOptions& options) {
    if (options.stdin_fd >= 0) return options.stdin_fd;
    if (options.stdin_data.empty()) return -1;
    auto pipe = MakePipe();
    if (!pipe) return pipe.error();
    read_ = std::move(pipe->read);
    thread_ = std::thread([data = options.stdin_data, write = std::move(pipe->write)] {
      SigpipeGuard guard;  // the command may not read it all
      std::string_view rest(data);
      while (!rest.empty()) {
        ssize_t n = ::write(write.get(), rest.data(), rest.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        rest.remove_prefix(static_cast<size_t>(n));
      }
    });
    return read_.get();
  }
  void Finish() {
    read_.Reset();  // a writer still blocked gets EPIPE
    if (thread_.joinable()) thread_.join();
  }
  ~InputPump() { Finish(); }

 private:
  vk::UniqueFd read_;
  std::thread thread_;
};

// Kills the command when the timeout passes: SIGKILL through the session,
// then the connection itself if the session does not end.
class Watchdog {
 public:
  Watchdog(std::optional<std::chrono::milliseconds> timeout,
           const vk::proto::SessionControl* control, int connection) {
    if (!timeout) return;
    thread_ = std::thread([this, timeout, control, connection] {
      std::unique_lock lock(mutex_);
      if (wake_.wait_for(lock, *timeout, [this] { return done_; })) return;
      fired_ = true;
      control->ForwardSignal(SIGKILL);
      if (wake_.wait_for(lock, kKillGrace, [this] { return done_; })) return;
      ::shutdown(connection, SHUT_RDWR);
    });
  }
  bool Stop() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    return fired_;
  }
  ~Watchdog() { Stop(); }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  bool fired_ = false;
  std::thread thread_;
};

vk::proto::ExecRequest Request(const std::vector<std::string>& argv,
                               const std::vector<std::string>& base_env,
                               const ExecOptions& options) {
  vk::proto::ExecRequest request;
  request.argv = argv;
  request.env = base_env;
  request.env.insert(request.env.end(), options.env.begin(), options.env.end());
  request.cwd = options.workdir;
  request.user = options.user;
  if (options.tty) request.tty = vk::proto::TtyConfig{};
  return request;
}

}  // namespace

Result<ExecResult> RunExec(vk::UniqueFd connection, const std::vector<std::string>& argv,
                           const std::vector<std::string>& base_env, const ExecOptions& options) {
  if (argv.empty() || argv.front().empty()) {
    return Error(ErrorKind::kUsage, "exec: give a command");
  }
  const std::string what = "exec " + argv.front();
  ExecResult result;
  OutputPump out, err;
  InputPump in;
  vk::proto::StdioFds stdio;
  auto in_fd = in.Start(options);
  auto out_fd = out.Start(options.stdout_fd, options.on_stdout, &result.stdout_text);
  auto err_fd = err.Start(options.stderr_fd, options.on_stderr, &result.stderr_text);
  if (!in_fd) return in_fd.error().Context(what);
  if (!out_fd) return out_fd.error().Context(what);
  if (!err_fd) return err_fd.error().Context(what);
  stdio = {*in_fd, *out_fd, *err_fd};
  auto control = vk::proto::SessionControl::Create();
  if (!control.ok()) return FromVk(control.error()).Context(what);
  vk::proto::ExecSessionOptions session;
  session.control = &*control;
  Watchdog watchdog(options.timeout, &*control, connection.get());
  vk::Result<vk::proto::ExitStatus> status = [&] {
    SigpipeGuard guard;
    return vk::proto::RunExecSession(connection.get(), Request(argv, base_env, options), stdio,
                                     session);
  }();
  const bool timed_out = watchdog.Stop();
  in.Finish();
  out.Finish();
  err.Finish();
  if (timed_out) {
    return Error(ErrorKind::kTimeout,
                 what + ": killed after " + std::to_string(options.timeout->count()) + " ms");
  }
  if (!status.ok()) return FromVk(status.error()).Context(what);
  if (status->kind == vk::proto::ExitStatus::Kind::kExited) {
    result.exit_code = status->code;
  } else {
    result.signal = status->code;
  }
  return result;
}

}  // namespace virtkit::internal
