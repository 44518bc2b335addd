// `vk supervise` (hidden): the library's way to start a VM. Reads one RunSpec
// as JSON on stdin, runs it detached and reports on stdout in ONE JSON line:
//
//   {"name":"NAME","dir":"<state dir>","pid":<VMM pid>}        exit 0
//   {"error":{"kind":"<ErrorKindName>","message":"..."}}       exit ExitCodeFor(kind)
//
// once the guest agent answers (the VMM goes on in its own session, as with
// `vk run -d`). Progress and warnings go to stderr. docs/protocol.md,
// "vk supervise", is the contract; the library relies on it exactly.
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "cli/command.h"
#include "runtime/named_vm.h"
#include "runtime/run_spec.h"

namespace vk::cli {
namespace {

// Reads stdin to EOF, refusing more than a spec may be.
Result<std::string> ReadSpecText() {
  std::string text;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(STDIN_FILENO, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno("read the run spec from stdin");
    if (n == 0) return text;
    if (text.size() + static_cast<size_t>(n) > kMaxRunSpecBytes) {
      return Error(ErrorKind::kUsage, "the run spec on stdin is larger than " +
                                          std::to_string(kMaxRunSpecBytes) + " bytes");
    }
    text.append(buffer, static_cast<size_t>(n));
  }
}

// The saved stdout while StdoutToStderr is on; -1 otherwise.
std::atomic<int> g_saved_stdout{-1};

// The VMM forked by Launch must not hold the caller's stdout open: the
// library reads it to EOF, which would then never come while the VM runs.
void CloseSavedStdoutInChild() {
  int fd = g_saved_stdout.exchange(-1);
  if (fd >= 0) ::close(fd);
}

// Whatever the runtime prints on stdout (Launch prints a detached VM's
// name) goes to stderr, so stdout carries exactly the one report line.
class StdoutToStderr {
 public:
  StdoutToStderr() {
    static const int registered = ::pthread_atfork(nullptr, nullptr, CloseSavedStdoutInChild);
    (void)registered;
    std::fflush(stdout);
    g_saved_stdout = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
    ::dup2(STDERR_FILENO, STDOUT_FILENO);
  }
  ~StdoutToStderr() { Restore(); }
  StdoutToStderr(const StdoutToStderr&) = delete;
  StdoutToStderr& operator=(const StdoutToStderr&) = delete;
  void Restore() {
    int fd = g_saved_stdout.exchange(-1);
    if (fd < 0) return;
    std::fflush(stdout);
    ::dup2(fd, STDOUT_FILENO);
    ::close(fd);
  }
};

// The VMM's record: written right after the machine starts, so it is there
// once the agent answers; a short wait covers a slow file system.
Result<NamedVm> FindStarted(const std::string& name) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    auto vm = NamedVm::Find(name);
    if (vm.ok() && vm->record().pid > 0) return vm;
    if (std::chrono::steady_clock::now() > deadline)
      return vm.ok() ? Error("the VM " + name + " started but left no record") : vm.error();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void Report(const nlohmann::json& line) {
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::fprintf(stdout, "%s\n", text.c_str());
  std::fflush(stdout);
}

int ReportError(const Error& error) {
  Report({{"error",
           {{"kind", std::string(ErrorKindName(error.kind()))}, {"message", error.message()}}}});
  std::fprintf(stderr, "vk supervise: %s\n", error.message().c_str());
  return ExitCodeFor(error.kind());
}

int Supervise() {
  auto text = ReadSpecText();
  if (!text.ok()) return ReportError(text.error());
  auto spec = DecodeRunSpec(*text);
  if (!spec.ok()) return ReportError(spec.error());
  spec->detach = true;  // the supervisor returns; the VM runs on
  const pid_t self = ::getpid();
  StdoutToStderr redirect;
  auto options = PrepareRun(*spec);
  if (!options.ok()) {
    redirect.Restore();
    return ReportError(options.error());
  }
  Result<int> launched = Launch(*options);
  // The detached VMM is a child of this process that returns here when its
  // VM ends: it reports nothing (its stdout is the VM's log anyway).
  if (::getpid() != self) return launched.ok() ? *launched : ExitCodeFor(launched.error().kind());
  redirect.Restore();
  if (!launched.ok()) return ReportError(launched.error());
  auto vm = FindStarted(options->name);
  if (!vm.ok()) return ReportError(vm.error());
  Report({{"name", vm->name()}, {"dir", vm->dir().path()}, {"pid", vm->record().pid}});
  return 0;
}

Runner Setup(CLI::App& app) {
  app.footer("Reads a RunSpec (JSON) on stdin; see docs/protocol.md, \"vk supervise\".");
  return [] { return Supervise(); };
}

// Hidden from `vk --help`: a protocol for the library, not a user command.
Command kSupervise("supervise", "Start a VM from a JSON run spec on stdin (for the library)",
                   &Setup, Listing::kHidden);

}  // namespace
}  // namespace vk::cli
