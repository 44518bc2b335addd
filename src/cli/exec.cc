// `vk exec [-i] [-t] [-e K=V] [-w DIR] [-u USER] NAME -- CMD ARGS...`: run a
// command in a running VM over its exec socket (vsock port 4444).
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/terminal.h"
#include "base/unique_fd.h"
#include "base/unix_socket.h"
#include "cli/command.h"
#include "proto/terminal_session.h"
#include "runtime/named_vm.h"

namespace vk::cli {
namespace {

struct ExecArgs {
  std::string name;
  std::string socket;  // an agent's exec socket, instead of a named VM's
  bool interactive = false;
  bool tty = false;
  std::vector<std::string> env;
  std::string workdir;
  std::string user;
};

Result<UniqueFd> ConnectExecSocket(const std::string& name) {
  return VK_TRY(NamedVm::Find(name)).ConnectExec();
}

proto::ExecRequest Request(const ExecArgs& args) {
  proto::ExecRequest request;
  request.argv = GuestCommand();
  request.env = args.env;
  request.cwd = args.workdir;
  request.user = args.user;
  if (args.tty) {
    auto size = TerminalSize(STDIN_FILENO).value_or(std::make_pair<uint16_t, uint16_t>(24, 80));
    const char* term = std::getenv("TERM");
    request.tty = proto::TtyConfig{term ? term : "xterm", size.first, size.second};
  }
  return request;
}

int Run(const ExecArgs& args) {
  if (args.name.empty() == args.socket.empty()) {
    std::fprintf(stderr, "vk exec: give a VM name (or --socket PATH)\n");
    return kExitUsage;
  }
  if (GuestCommand().empty()) {
    std::fprintf(stderr, "vk exec: give the command after --, e.g. vk exec %s -- sh\n",
                 args.name.c_str());
    return kExitUsage;
  }
  auto fd = args.socket.empty() ? ConnectExecSocket(args.name) : ConnectUnix(args.socket);
  if (!fd.ok()) return Fail("exec", fd.error());
  proto::InstallTerminalSignalHandlers();
  proto::StdioFds stdio;
  if (!args.interactive) stdio.in = -1;  // as docker: no stdin without -i
  auto status = proto::RunTerminalSession(fd->get(), Request(args), stdio);
  if (!status.ok()) return Fail("exec", status.error());
  return status->ShellCode();
}

Runner Setup(CLI::App& app) {
  auto args = std::make_shared<ExecArgs>();
  app.add_option("name", args->name, "The VM (see vk ps)");
  app.add_option("--socket", args->socket,
                 "Use this exec socket (e.g. of `vk-agent serve --unix PATH`) instead of NAME");
  app.add_flag("-i,--interactive", args->interactive, "Pass stdin to the command");
  app.add_flag("-t,--tty", args->tty, "Run the command on a terminal");
  app.add_option("-e,--env", args->env, "Set K=V in the command's environment");
  app.add_option("-w,--workdir", args->workdir, "Working directory in the guest");
  app.add_option("-u,--user", args->user, "User: name, uid, name:group or uid:gid");
  app.footer("Everything after -- is the command to run.");
  return [args] { return Run(*args); };
}

Command kExec("exec", "Run a command in a running VM", &Setup);

}  // namespace
}  // namespace vk::cli
