#include "agent/virtctl.h"

#include <linux/vm_sockets.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>
#include <variant>

#include "base/fd_io.h"
#include "base/names.h"
#include "base/unique_fd.h"
#include "base/unix_socket.h"
#include "proto/virtctl_client.h"
#include "proto/virtctl_text.h"

namespace vk::agent {
namespace {

using proto::UnitInfo;
using proto::VirtctlOp;
using proto::VirtctlReply;
using proto::VirtctlRequest;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;  // refused, unreachable, or a broken reply
constexpr int kExitUsage = 2;

constexpr char kUsage[] =
    "usage: virtctl list | status UNIT | start UNIT | stop UNIT | restart UNIT | logs [-f] UNIT"
    " | down\n"
    "Controls the units of the `vk fleet` this VM belongs to, through the fleet controller on\n"
    "the host (vsock port 4446; $VIRTCTL_SOCKET=PATH connects to that unix socket instead).\n";

// ---- Arguments ----

bool IsHelp(std::string_view arg) { return arg == "-h" || arg == "--help" || arg == "help"; }

Error UsageError(std::string message) { return Error(ErrorKind::kUsage, std::move(message)); }

// Removes -f/--follow from `args`; whether there was one.
bool TakeFollow(std::vector<std::string_view>& args) {
  size_t before = args.size();
  std::erase_if(args, [](std::string_view arg) { return arg == "-f" || arg == "--follow"; });
  return args.size() != before;
}

// The unit operand, or none for list/down; anything more is an error.
Result<void> TakeUnit(VirtctlRequest& request, const std::vector<std::string_view>& args) {
  std::string op(proto::VirtctlOpName(request.op));
  for (std::string_view arg : args) {
    if (arg.starts_with('-')) return UsageError("unknown option " + std::string(arg));
  }
  if (!proto::VirtctlOpTakesUnit(request.op)) {
    if (!args.empty()) return UsageError(op + " takes no arguments");
    return Ok();
  }
  if (args.size() != 1) return UsageError(op + " takes one UNIT");
  VK_TRY(CheckName(args[0], NameKind::kVm));
  request.unit = args[0];
  return Ok();
}

// The request the arguments ask for; nullopt for --help.
Result<std::optional<VirtctlRequest>> ParseArgs(int argc, char** argv) {
  std::vector<std::string_view> args(argv + std::min(argc, 1), argv + argc);
  if (args.empty()) return UsageError("no command given");
  for (std::string_view arg : args) {
    if (IsHelp(arg)) return std::optional<VirtctlRequest>();
  }
  std::optional<VirtctlOp> op = proto::VirtctlOpFromName(args[0]);
  if (!op) return UsageError("unknown command " + std::string(args[0]));
  VirtctlRequest request{.op = *op};
  args.erase(args.begin());
  if (*op == VirtctlOp::kLogs) request.follow = TakeFollow(args);
  VK_TRY(TakeUnit(request, args));
  return std::optional<VirtctlRequest>(std::move(request));
}

// ---- The connection ----

Result<UniqueFd> ConnectVsockHost(uint32_t port) {
  UniqueFd fd(::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return Error::FromErrno("socket");
  sockaddr_vm address{};
  address.svm_family = AF_VSOCK;
  address.svm_cid = VMADDR_CID_HOST;
  address.svm_port = port;
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return Error::FromErrno("connect");
  }
  return fd;
}

// The fleet controller: $VIRTCTL_SOCKET's unix socket, else the host's vsock
// port. On failure, says where it tried and why (errno text).
Result<UniqueFd> ConnectController() {
  const char* path = std::getenv(kVirtctlSocketEnv);
  std::string where = path && *path ? std::string(kVirtctlSocketEnv) + "=" + path
                                    : "vsock port " + std::to_string(proto::kVirtctlPort);
  Result<UniqueFd> fd = path && *path ? ConnectUnix(path) : ConnectVsockHost(proto::kVirtctlPort);
  if (fd.ok()) return fd;
  int err = fd.error().errno_value();
  return Error("cannot reach the fleet controller (" + where +
               "): " + (err != 0 ? std::strerror(err) : fd.error().message()) +
               "; virtctl works inside `vk fleet` VMs");
}

// ---- Output ----

std::string Line(const std::string& text) { return text.empty() ? "" : text + "\n"; }

// What a successful reply prints on stdout.
std::string Render(const VirtctlRequest& request, const VirtctlReply& reply) {
  switch (request.op) {
    case VirtctlOp::kList: return proto::FormatUnitTable(reply.units);
    case VirtctlOp::kStatus: {
      std::string text;
      for (const UnitInfo& unit : reply.units) {
        text += (text.empty() ? "" : "\n") + proto::FormatUnitStatus(unit);
      }
      return text.empty() ? Line(reply.message) : text;
    }
    case VirtctlOp::kLogs: return "";  // the chunks were the output
    default: return Line(reply.message);
  }
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "virtctl: %s\n", message.c_str());
  return kExitFailed;
}

// Sends the request and prints the outcome; the exit status.
int Perform(const VirtctlRequest& request) {
  auto connection = ConnectController();
  if (!connection.ok()) return Fail(connection.error().message());
  auto reply = proto::ExchangeVirtctl(connection->get(), request, [](std::string_view text) {
    (void)WriteAll(STDOUT_FILENO, text);  // a closed stdout ends us with SIGPIPE, as cat
  });
  if (!reply.ok()) return Fail(reply.error().message());
  if (!reply->ok) return Fail(reply->error.empty() ? "the fleet controller refused" : reply->error);
  // After logs, stdout holds only the unit's output: a closing word goes to stderr.
  if (request.op == VirtctlOp::kLogs && !reply->message.empty()) {
    std::fprintf(stderr, "virtctl: %s\n", reply->message.c_str());
  }
  auto written = WriteAll(STDOUT_FILENO, Render(request, *reply));
  if (!written.ok()) return Fail("write: " + written.error().message());
  return kExitOk;
}

}  // namespace

bool InvokedAsVirtctl(std::string_view argv0) {
  size_t slash = argv0.rfind('/');
  return argv0.substr(slash == std::string_view::npos ? 0 : slash + 1) == "virtctl";
}

int RunVirtctl(int argc, char** argv) {
  auto request = ParseArgs(argc, argv);
  if (!request.ok()) {
    std::fprintf(stderr, "virtctl: %s\n%s", request.error().message().c_str(), kUsage);
    return kExitUsage;
  }
  if (!*request) {
    auto written = WriteAll(STDOUT_FILENO, std::string_view(kUsage));
    return written.ok() ? kExitOk : kExitFailed;
  }
  return Perform(**request);
}

}  // namespace vk::agent
