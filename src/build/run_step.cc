#include "build/run_step.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/exit_codes.h"
#include "base/fd_io.h"
#include "base/pipe.h"
#include "base/unique_fd.h"
#include "image/scratch_template.h"
#include "runtime/run_spec.h"

namespace vk::build {
namespace {

constexpr uint64_t kScratchBytes = 64ull << 30;  // sparse: costs what the RUN writes
// The child's one status line; anything longer is not from our child.
constexpr size_t kMaxStatusBytes = 1 << 16;
// How often a waiting step looks at the build's cancel flag.
constexpr int kCancelPollMs = 200;

RunSpec SpecFor(const RunStepSpec& step) {
  RunSpec spec;
  spec.rootfs_path = step.root_disk;
  spec.image_store = step.image_store;
  spec.command = step.argv;
  spec.env = step.env;
  spec.user = step.user;
  spec.workdir = step.workdir;
  spec.shares = step.shares;
  spec.tmpfs = step.tmpfs;
  spec.binds = step.binds;
  spec.memory_bytes = step.memory_bytes;
  spec.cold = step.cold;
  spec.hostname = "buildkitsandbox";  // what BuildKit's RUN steps see
  spec.network.mode = step.network ? NetworkOptions::Mode::kInProcess : NetworkOptions::Mode::kNone;
  return spec;
}

// In the child: the launch, its result as one JSON line on `status_fd`.
Result<int> LaunchStep(const RunStepSpec& step) {
  LaunchOptions options = VK_TRY(PrepareRun(SpecFor(step)));
  std::string templates = step.image_store + "/templates";
  std::string scratch = step.scratch_disk;
  options.make_scratch_disk = [templates, scratch](const VmDir&) -> Result<std::string> {
    VK_TRY_CTX(image::CreateScratchDiskFromTemplate(templates, scratch, kScratchBytes),
               "scratch disk");
    return scratch;
  };
  options.stdin_open = false;
  options.tty.reset();
  return Launch(options);
}

[[noreturn]] void ChildMain(const RunStepSpec& step, int output_fd, int status_fd) {
  UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (null) ::dup2(null.get(), STDIN_FILENO);
  ::dup2(output_fd, STDOUT_FILENO);
  ::dup2(output_fd, STDERR_FILENO);
  Result<int> result = LaunchStep(step);
  nlohmann::json status;
  if (result.ok()) {
    status["exit"] = *result;
  } else {
    status["kind"] = static_cast<int>(result.error().kind());
    status["message"] = result.error().message();
  }
  std::string line = status.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // Unwritten, the parent reports a VM process that ended without a result.
  (void)WriteAll(status_fd, line);
  std::fflush(stdout);
  ::_exit(0);
}

Result<std::string> ReadAllBounded(int fd) {
  std::string text;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno("read the RUN step's status");
    if (n == 0) return text;
    if (text.size() + static_cast<size_t>(n) > kMaxStatusBytes)
      return Error("the RUN step's status is too long");
    text.append(buffer, static_cast<size_t>(n));
  }
}

Result<RunStepOutcome> ParseStatus(const std::string& text, int wait_status) {
  nlohmann::json status = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (status.is_discarded() || !status.is_object()) {
    std::string how = WIFSIGNALED(wait_status)
                          ? "was killed by signal " + std::to_string(WTERMSIG(wait_status))
                          : "exited with " + std::to_string(WEXITSTATUS(wait_status));
    return Error("the RUN step's VM process " + how + " without reporting a result");
  }
  auto exit = status.find("exit");
  if (exit != status.end() && exit->is_number_integer()) return RunStepOutcome{exit->get<int>()};
  auto kind = status.find("kind");
  auto message = status.find("message");
  ErrorKind error_kind = ErrorKind::kInternal;
  if (kind != status.end() && kind->is_number_integer() && kind->get<int>() >= 0 &&
      kind->get<int>() <= static_cast<int>(ErrorKind::kPreflight))
    error_kind = static_cast<ErrorKind>(kind->get<int>());
  std::string what = message != status.end() && message->is_string() ? message->get<std::string>()
                                                                     : std::string("no message");
  return Error(error_kind, "the RUN step's VM: " + what);
}

// Releases a held mutex for a scope (the VM wait), takes it back after.
class Unlocked {
 public:
  explicit Unlocked(std::mutex* mutex) : mutex_(mutex) {
    if (mutex_ != nullptr) mutex_->unlock();
  }
  ~Unlocked() {
    if (mutex_ != nullptr) mutex_->lock();
  }
  Unlocked(const Unlocked&) = delete;
  Unlocked& operator=(const Unlocked&) = delete;

 private:
  std::mutex* mutex_;
};

}  // namespace

Result<RunStepOutcome> RunInMicroVm(const RunStepSpec& spec,
                                    const std::function<void(std::string_view)>& on_output,
                                    StepWaiting waiting) {
  Pipe output = VK_TRY(MakePipe());
  Pipe status = VK_TRY(MakePipe());
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return Error::FromErrno("fork the RUN step's VM process");
  if (pid == 0) ChildMain(spec, output.write.get(), status.write.get());
  output.write.Reset();
  status.write.Reset();
  bool stopping = false;
  char buffer[8192];
  for (;;) {
    if (!stopping && waiting.cancel != nullptr && waiting.cancel->load()) {
      stopping = true;
      ::kill(pid, SIGTERM);  // the child is ours and not yet reaped: the pid is its
    }
    ssize_t n = 0;
    {
      Unlocked released(waiting.host_work);
      pollfd readable{output.read.get(), POLLIN, 0};
      int ready = ::poll(&readable, 1, kCancelPollMs);
      if (ready == 0) continue;
      n = ready < 0 ? -1 : ::read(output.read.get(), buffer, sizeof(buffer));
    }
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    on_output(std::string_view(buffer, static_cast<size_t>(n)));
  }
  auto text = ReadAllBounded(status.read.get());
  int wait_status = 0;
  {
    Unlocked released(waiting.host_work);
    while (::waitpid(pid, &wait_status, 0) < 0) {
      if (errno != EINTR) return Error::FromErrno("wait for the RUN step's VM process");
    }
  }
  return ParseStatus(text.ok() ? *text : std::string(), wait_status);
}

}  // namespace vk::build
