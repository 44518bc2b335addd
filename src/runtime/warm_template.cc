#include "runtime/warm_template.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <thread>

#include "base/fd_io.h"
#include "base/file_lock.h"
#include "base/private_dir.h"
#include "base/remove_tree.h"
#include "base/sha256.h"
#include "base/strings.h"
#include "base/unix_socket.h"
#include "proto/vsock_stream.h"
#include "runtime/vm_dir.h"
#include "vmm/snapshot_file.h"

namespace vk {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kEntropyBytes = 64;
constexpr size_t kMaxReplyLine = 600;  // "ERR " + the agent's <= 512-byte message
constexpr auto kConnectRetry = std::chrono::milliseconds(200);
// An agent waiting on its template port greets at once, but a PVM guest
// under load may take a while to be scheduled: the wait grows per attempt.
constexpr auto kFirstGreetingWait = std::chrono::milliseconds(300);
constexpr auto kMaxGreetingWait = std::chrono::seconds(5);

std::string Sha256Hex(std::string_view text) {
  Sha256Digest digest = Sha256Of(text);
  return BytesToHex(digest.data(), digest.size());
}

// One line of the agent's, newline included, waiting until `deadline`.
Result<std::string> ReadLine(int fd, Clock::time_point deadline) {
  return ReadLineBefore(fd, deadline, kMaxReplyLine).Context("the agent's reply");
}

// Connects to the agent's template port and reads its greeting; retries
// while the guest is still booting (nobody listens yet) until `deadline`.
Result<UniqueFd> ConnectToWaitingAgent(const std::string& vsock_socket, const Machine* machine,
                                       Clock::time_point deadline) {
  std::string last_error = "no attempt";
  std::chrono::milliseconds greeting_wait = kFirstGreetingWait;
  while (Clock::now() < deadline) {
    if (machine != nullptr && machine->ended()) {
      return Error("the template VM stopped while booting; console:\n" +
                   machine->ConsoleTail(2000));
    }
    auto connected = proto::ConnectVsockPort(vsock_socket, kTemplatePort);
    if (connected.ok()) {
      // Right after a restore the guest may accept this connection just
      // before it handles the TRANSPORT_RESET, which then drops it on its
      // side without a word: a greeting that does not come soon means
      // "connect again", not "wait longer".
      auto greeting = ReadLine(connected->get(), std::min(deadline, Clock::now() + greeting_wait));
      greeting_wait = std::min<std::chrono::milliseconds>(greeting_wait * 2, kMaxGreetingWait);
      if (greeting.ok() && *greeting == proto::kTemplateReady) return std::move(*connected);
      last_error = greeting.ok() ? "unexpected greeting " + *greeting : greeting.error().message();
    } else {
      last_error = connected.error().message();
    }
    std::this_thread::sleep_for(kConnectRetry);
  }
  return Error("the agent did not wait for an assignment in time (" + last_error + ")");
}

Result<void> BuildTemplate(const TemplateShape& shape, const TemplateGuest& guest,
                           const std::string& dir, const std::string& build_dir,
                           const std::function<Result<void>(Machine&, const std::string&)>& add,
                           const TemplateOptions& options) {
  UniqueFd console = VK_TRY(OpenPrivateFile(VmDir::At(build_dir).ConsoleLog(), O_TRUNC));
  MachineConfig config;
  GuestBytes bytes = VK_TRY(guest.load());
  config.kernel = bytes.kernel;
  config.initrd = bytes.initrd;
  config.cmdline = shape.cmdline;
  config.cpus = shape.cpus;
  config.memory_bytes = shape.memory_bytes;
  config.console_fd = console.get();
  config.guest_identity = guest.identity;
  auto machine = VK_TRY(Machine::Create(config));
  VK_TRY(add(*machine, build_dir));
  VK_TRY(machine->Start());
  auto deadline = Clock::now() + options.boot_timeout;
  UniqueFd agent =
      VK_TRY(ConnectToWaitingAgent(VmDir::At(build_dir).VsockSocket(), machine.get(), deadline));
  // The agent now blocks reading its assignment: nothing VM-specific has
  // happened in the guest. The restore resets this connection and the agent
  // accepts the real one.
  return machine->SaveSnapshot(dir);
}

}  // namespace

Result<std::string> CacheRoot() {
  const char* cache = std::getenv("XDG_CACHE_HOME");
  if (cache != nullptr && *cache == '/') return std::string(cache) + "/virtkit";
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home != '/') {
    return Error("neither XDG_CACHE_HOME nor HOME is set: set one (templates live there)");
  }
  return std::string(home) + "/.cache/virtkit";
}

Result<std::string> TemplateDirectory(const TemplateShape& shape, const TemplateGuest& guest) {
  std::string key_text =
      "format " + std::to_string(kSnapshotFormatVersion) + "\nvmm " + CurrentVmmBuild() +
      "\nguest " + guest.identity + "\ncpus " + std::to_string(shape.cpus) + "\nmemory " +
      std::to_string(shape.memory_bytes) + "\nroot_ro " + std::to_string(shape.root_read_only) +
      "\nscratch " + std::to_string(shape.scratch) + "\nnet " + std::to_string(shape.net) +
      "\nshares " + std::to_string(shape.shares) + (shape.root_dir ? "\nroot dir" : "") +
      "\ncmdline " + shape.cmdline;
  std::string root = VK_TRY(CacheRoot());
  return root + "/snapshots/" + Sha256Hex(key_text).substr(0, 32);
}

Result<std::string> EnsureTemplate(
    const TemplateShape& shape, const TemplateGuest& guest,
    const std::function<Result<void>(Machine&, const std::string&)>& add_template_devices,
    const TemplateOptions& options) {
  std::string dir = VK_TRY(TemplateDirectory(shape, guest));
  std::string parent = std::filesystem::path(dir).parent_path();
  VK_TRY(EnsurePrivateDirectory(parent));
  // Concurrent first runs of one shape: one builds, the others wait here.
  FileLock lock = VK_TRY(FileLock::Acquire(dir + ".lock"));
  // Checked here, before the caller sandboxes itself: a template that would
  // fail to restore (corrupt, cut short, another build or host CPU) is made
  // again now, while making one is still possible.
  if (::access(dir.c_str(), F_OK) == 0) {
    auto usable =
        ReadSnapshot(dir, ExpectedSnapshotIdentity(guest.identity, shape.cpus, shape.memory_bytes));
    if (usable.ok()) return dir;
    if (options.show_progress) {
      std::fprintf(stderr, "vk: the warm template cannot be used (%s); making it again\n",
                   usable.error().message().c_str());
    }
    DiscardTemplate(dir);
  }
  auto start = Clock::now();
  if (options.show_progress) {
    std::fprintf(stderr,
                 "vk: preparing a warm template for %u vCPU / %lu MiB (once per VM shape; later "
                 "VMs start from it)...\n",
                 shape.cpus, static_cast<unsigned long>(shape.memory_bytes >> 20));
  }
  std::string build_dir = dir + ".build";
  if (::access(build_dir.c_str(), F_OK) == 0) (void)RemoveTreeWithin(parent, build_dir);
  VK_TRY(CreatePrivateDirectory(build_dir));
  auto built = BuildTemplate(shape, guest, dir, build_dir, add_template_devices, options);
  (void)RemoveTreeWithin(parent, build_dir);
  if (!built.ok()) return std::move(built).error().WithContext("make the warm template");
  if (options.show_progress) {
    std::fprintf(stderr, "vk: warm template ready in %.1f s\n",
                 std::chrono::duration<double>(Clock::now() - start).count());
  }
  return dir;
}

void DiscardTemplate(const std::string& dir) {
  std::string parent = std::filesystem::path(dir).parent_path();
  (void)RemoveTreeWithin(parent, dir);
}

Result<void> AssignTemplateVm(const std::string& vsock_socket, const proto::Assignment& assignment,
                              std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  UniqueFd agent = VK_TRY(ConnectToWaitingAgent(vsock_socket, nullptr, deadline));
  std::vector<uint8_t> frame = proto::EncodeAssignment(assignment);
  VK_TRY(WriteAll(agent.get(), frame));
  std::string reply = VK_TRY(ReadLine(agent.get(), deadline));
  if (reply == proto::kTemplateOk) return Ok();
  if (StartsWith(reply, proto::kTemplateErrPrefix)) {
    reply.pop_back();
    return Error("the guest refused its assignment: " +
                 reply.substr(proto::kTemplateErrPrefix.size()));
  }
  return Error("unexpected reply from the agent: " + reply);
}

Result<proto::Assignment> NewAssignment(std::string params, std::vector<uint8_t> mac) {
  proto::Assignment assignment;
  assignment.params = std::move(params);
  assignment.entropy.resize(kEntropyBytes);
  if (::getrandom(assignment.entropy.data(), kEntropyBytes, 0) !=
      static_cast<ssize_t>(kEntropyBytes)) {
    return Error::FromErrno("getrandom");
  }
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  assignment.wall_clock_ns =
      static_cast<uint64_t>(now.tv_sec) * 1000000000ull + static_cast<uint64_t>(now.tv_nsec);
  assignment.mac = std::move(mac);
  return assignment;
}

}  // namespace vk
