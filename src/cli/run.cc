// `vk run [OPTIONS] IMAGE [-- CMD ARGS...]`: an OCI image as a microVM, with
// docker's workflow: the image's base is a cached read-only ext4 (vda), the
// VM writes to its own sparse scratch disk (vdb) under an overlayfs root,
// host directories come in over virtio-fs, and the exit code is the
// command's.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/names.h"
#include "base/strings.h"
#include "base/terminal.h"
#include "cli/command.h"
#include "cli/net_flags.h"
#include "image/build.h"
#include "image/pull.h"
#include "image/scratch_template.h"
#include "runtime/launch.h"
#include "runtime/vm_state.h"

namespace vk::cli {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kScratchBytes = 64ull << 30;  // sparse: costs only what the guest writes
constexpr const char* kShellProbe =
    "if [ -x /bin/bash ]; then exec /bin/bash -l; else exec /bin/sh -l; fi";

struct RunArgs {
  std::string image;
  bool shell = false, interactive = false, tty = false, detach = false, keep = false;
  bool remove = true;
  std::vector<std::string> env, env_files, volumes;
  std::string workdir, cpus = "1", memory = "1G", name, user, entrypoint, hostname;
  std::string pull = "missing", platform = "linux/amd64";
  bool insecure = false;
  int timeout_seconds = 0;
  int boot_timeout_seconds = 180;  // -d: how long to wait for the agent
  bool cold = false;               // --cold: never a template
  NetFlags net;
};

Result<unsigned> ParseCpus(const std::string& text) {
  if (text == "host") return std::max(1u, std::thread::hardware_concurrency());
  auto n = ParseUint(text);
  if (!n || *n < 1 || *n > 64) return Error("--cpus must be 1-64 or host (got " + text + ")");
  return static_cast<unsigned>(*n);
}

// docker's --env-file: K=V lines, '#' comments, a bare K takes the host's value.
Result<std::vector<std::string>> ReadEnvFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error::FromErrno("--env-file " + path);
  std::vector<std::string> env;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    if (line.find('=') != std::string::npos) {
      env.push_back(line);
    } else if (const char* value = std::getenv(line.c_str())) {
      env.push_back(line + "=" + value);
    }
  }
  return env;
}

Result<std::string> SharedDirectory(const std::string& path, const std::string& what) {
  std::error_code error;
  fs::path real = fs::canonical(path, error);
  if (error) return Error(what + " " + path + ": " + error.message());
  if (!fs::is_directory(real)) return Error(what + " " + path + ": only directories can be shared");
  return real.string();
}

// -v HOST:GUEST[:ro]
Result<SharedDir> ParseVolume(const std::string& spec) {
  std::vector<std::string> parts = Split(spec, ':');
  bool ro = parts.size() == 3 && parts[2] == "ro";
  bool rw = parts.size() == 3 && parts[2] == "rw";
  if (parts.size() != 2 && !ro && !rw) return Error("-v " + spec + ": use HOST:GUEST[:ro]");
  const std::string& guest = parts[1];
  if (guest.size() < 2 || guest[0] != '/' || guest.find_first_of(" \t\n,") != std::string::npos)
    return Error("-v " + spec + ": the guest path must be absolute, without spaces or commas");
  return SharedDir{VK_TRY(SharedDirectory(parts[0], "-v")), guest, ro};
}

std::vector<std::string> GuestArgv(const RunArgs& a, const image::ImageConfig& config) {
  if (a.shell) return {"/bin/sh", "-c", kShellProbe};
  std::vector<std::string> argv =
      a.entrypoint.empty() ? config.entrypoint : std::vector<std::string>{a.entrypoint};
  // docker: --entrypoint resets the image's Cmd too.
  const std::vector<std::string>& cmd =
      !GuestCommand().empty() ? GuestCommand()
                              : (a.entrypoint.empty() ? config.cmd : std::vector<std::string>{});
  argv.insert(argv.end(), cmd.begin(), cmd.end());
  return argv;
}

using ScratchFn = std::function<Result<std::string>(const VmDir&)>;

Result<ScratchFn> ScratchMaker(const RunArgs& a) {
  std::string data = VK_TRY(image::Store::DefaultRoot());
  std::string keep_dir;
  if (a.keep) {
    keep_dir = data + "/scratch";
    std::error_code error;
    fs::create_directories(keep_dir, error);
    if (error) return Error("create " + keep_dir + ": " + error.message());
  }
  std::string templates = data + "/templates";
  return ScratchFn([keep_dir, templates](const VmDir& run_dir) -> Result<std::string> {
    std::string path = keep_dir.empty()
                           ? run_dir.ScratchDisk()
                           : keep_dir + "/" + fs::path(run_dir.path()).filename().string() + "-" +
                                 std::to_string(::getpid()) + ".ext4";
    VK_TRY_CTX(image::CreateScratchDiskFromTemplate(templates, path, kScratchBytes),
               "scratch disk");
    if (!keep_dir.empty())
      std::fprintf(stderr, "vk run: keeping the scratch disk %s\n", path.c_str());
    return path;
  });
}

Result<LaunchOptions> Prepare(const RunArgs& a) {
  // Checked before the image is pulled: a typo must not cost a download.
  if (!a.name.empty()) VK_TRY(CheckName(a.name, NameKind::kVm));
  if (!a.hostname.empty()) VK_TRY_CTX(CheckHostname(a.hostname), "--hostname");
  image::Store store = VK_TRY(image::Store::Open(VK_TRY(image::Store::DefaultRoot())));
  image::PullOptions pull;
  pull.platform = VK_TRY_CTX(image::ParsePlatform(a.platform), "--platform");
  pull.insecure = a.insecure;
  image::ImageRecord record =
      VK_TRY(image::ResolveImage(store, a.image, VK_TRY(image::ParsePullPolicy(a.pull)), pull));
  image::ImageConfig config = VK_TRY(image::ReadImageConfig(store, record));
  LaunchOptions o;
  o.disk = VK_TRY(image::EnsureBase(store, record));
  o.read_only = true;
  o.display_name = a.image;
  o.make_scratch_disk = VK_TRY(ScratchMaker(a));
  o.cpus = VK_TRY(ParseCpus(a.cpus));
  o.memory_bytes = VK_TRY_CTX(ParseSize(a.memory), "--mem");
  o.env = config.env;
  for (const std::string& file : a.env_files) {
    auto more = VK_TRY(ReadEnvFile(file));
    o.env.insert(o.env.end(), more.begin(), more.end());
  }
  o.env.insert(o.env.end(), a.env.begin(), a.env.end());
  o.workdir = config.working_dir;
  for (const std::string& v : a.volumes) o.shares.push_back(VK_TRY(ParseVolume(v)));
  if (!a.workdir.empty()) {
    o.shares.push_back({VK_TRY(SharedDirectory(a.workdir, "--workdir")), "/work", false});
    o.workdir = "/work";
  }
  o.user = a.user.empty() ? config.user : a.user;
  o.command = GuestArgv(a, config);
  if (o.command.empty())
    return Error("the image " + a.image + " names no command: give one after --, or use --shell");
  bool tty = a.tty || a.shell;
  if (tty) {
    auto size = TerminalSize(STDIN_FILENO).value_or(std::make_pair<uint16_t, uint16_t>(24, 80));
    const char* term = std::getenv("TERM");
    o.tty = proto::TtyConfig{term ? term : "xterm", size.first, size.second};
  }
  // As docker, stdin reaches the command with -i; a pipe is passed on too, so
  // `echo hi | vk run IMG -- cat` does what it says.
  o.stdin_open = a.interactive || a.shell || !::isatty(STDIN_FILENO);
  o.name = a.name;
  // --rm (the default in the foreground): a named VM leaves no state behind.
  // Launch removes only a state directory it created itself.
  o.remove_state_on_exit = !a.detach && a.remove;
  o.hostname = a.hostname;
  o.detach = a.detach;
  o.write_etc = true;
  o.network = a.net.ToOptions();
  if (a.timeout_seconds > 0) o.timeout = std::chrono::seconds(a.timeout_seconds);
  o.boot_timeout = std::chrono::seconds(a.boot_timeout_seconds);
  o.cold = a.cold;
  return o;
}

int Run(const RunArgs& a) {
  auto options = Prepare(a);
  if (!options.ok()) return Fail("run", options.error());
  return ExitCodeOf("run", Launch(*options));
}

Runner Setup(CLI::App& app) {
  static RunArgs a;
  app.add_option("image", a.image, "Image: alpine:latest, ghcr.io/o/r@sha256:..., oci:DIR...")
      ->required();
  app.add_flag("--shell", a.shell, "Interactive login shell (bash if present, else sh)");
  app.add_flag("-i,--interactive", a.interactive, "Keep stdin open");
  app.add_flag("-t,--tty", a.tty, "Run the command on a terminal");
  app.add_option("-e,--env", a.env, "Set K=V (repeatable)");
  app.add_option("--env-file", a.env_files, "Read K=V lines from FILE");
  app.add_option("-w,--workdir", a.workdir, "Share host DIR at /work and run there");
  app.add_option("-v,--volume", a.volumes, "Share HOST:GUEST[:ro] (repeatable)");
  app.add_option("--cpus", a.cpus, "vCPUs: N or host");
  app.add_option("--mem,--memory", a.memory, "Guest memory, e.g. 512M, 4G (allocated lazily)");
  app.add_option("--name", a.name, "Name the VM (vk exec/ps/stop/logs use it)");
  app.add_flag("-d,--detach", a.detach, "Run in the background");
  app.add_flag("!--no-rm", a.remove, "Keep a named foreground VM's state after it exits");
  app.add_flag("--rm", a.remove, "Remove the VM's state when it exits (default in the foreground)");
  app.add_flag("--keep", a.keep, "Keep the scratch disk (the VM's writes) after it exits");
  app.add_option("-u,--user", a.user, "User: name, uid, name:group or uid:gid");
  app.add_option("--entrypoint", a.entrypoint, "Override the image's entrypoint");
  app.add_option("--hostname", a.hostname, "Guest hostname");
  app.add_option("--pull", a.pull, "always|missing|never (default missing)");
  app.add_option("--platform", a.platform, "os/arch to pull");
  app.add_flag("--insecure", a.insecure, "Plain HTTP to the registry");
  app.add_option("--timeout", a.timeout_seconds, "Stop the VM after SECONDS");
  app.add_option("--boot-timeout", a.boot_timeout_seconds,
                 "With -d: seconds to wait for the guest agent (default 180)");
  app.add_flag("--cold", a.cold,
               "Boot the kernel instead of restoring the warm template of this VM shape (also "
               "VIRTKIT_COLD_BOOT=1)");
  a.net.Add(app);
  app.footer("Everything after -- is the command (it replaces the image's Cmd).");
  return [] { return Run(a); };
}

Command kRun("run", "Run a command in a new microVM from an image", &Setup);

}  // namespace
}  // namespace vk::cli
